//! What kind of project a directory holds, and the commands it is tested, built and audited
//! with, so `prodcheck init` writes commands that exist instead of assuming npm.

use std::path::Path;

/// A recognised project kind and the file that told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stack {
    pub name: &'static str,
    /// The file that identified it (`Cargo.toml`).
    pub marker: &'static str,
    commands: &'static [(&'static str, &'static str)],
}

impl Stack {
    /// The command for a shipped `*_command` variable, if this stack has a usual one.
    pub fn command(&self, var: &str) -> Option<&'static str> {
        self.commands
            .iter()
            .find(|(v, _)| *v == var)
            .map(|(_, c)| *c)
    }
}

const RUST: Stack = Stack {
    name: "Rust",
    marker: "Cargo.toml",
    commands: &[
        ("test_command", "cargo test --workspace --locked"),
        ("build_command", "cargo build --release --locked"),
        ("audit_command", "cargo audit"),
        (
            "outdated_command",
            "cargo outdated --root-deps-only --exit-code 1",
        ),
    ],
};

const NODE: Stack = Stack {
    name: "Node.js",
    marker: "package.json",
    commands: &[
        ("test_command", "npm test"),
        ("integration_test_command", "npm run test:integration"),
        ("e2e_test_command", "npm run test:e2e"),
        ("build_command", "npm run build"),
        ("audit_command", "npm audit --audit-level=high"),
        ("outdated_command", "npm outdated"),
        ("smoke_test_command", "npm run test:smoke"),
    ],
};

const GO: Stack = Stack {
    name: "Go",
    marker: "go.mod",
    commands: &[
        ("test_command", "go test ./..."),
        (
            "integration_test_command",
            "go test -tags=integration ./...",
        ),
        ("build_command", "go build ./..."),
        ("audit_command", "govulncheck ./..."),
    ],
};

const PYTHON: Stack = Stack {
    name: "Python",
    marker: "pyproject.toml",
    commands: &[
        ("test_command", "python -m pytest"),
        ("build_command", "python -m build"),
        ("audit_command", "pip-audit"),
    ],
};

const PYTHON_REQUIREMENTS: Stack = Stack {
    marker: "requirements.txt",
    ..PYTHON
};

const MAVEN: Stack = Stack {
    name: "Java (Maven)",
    marker: "pom.xml",
    commands: &[
        ("test_command", "mvn -B test"),
        ("integration_test_command", "mvn -B verify"),
        ("build_command", "mvn -B package -DskipTests"),
        (
            "audit_command",
            "mvn -B org.owasp:dependency-check-maven:check",
        ),
    ],
};

const GRADLE: Stack = Stack {
    name: "Java/Kotlin (Gradle)",
    marker: "build.gradle",
    commands: &[
        ("test_command", "./gradlew test"),
        ("build_command", "./gradlew build -x test"),
        ("audit_command", "./gradlew dependencyCheckAnalyze"),
    ],
};

const GRADLE_KTS: Stack = Stack {
    marker: "build.gradle.kts",
    ..GRADLE
};

/// In order of preference: a language's own manifest beats a Makefile.
const STACKS: &[Stack] = &[
    RUST,
    NODE,
    GO,
    PYTHON,
    PYTHON_REQUIREMENTS,
    MAVEN,
    GRADLE,
    GRADLE_KTS,
];

/// The project in `dir`, or `None` when no manifest is there. A Makefile with `test:` /
/// `build:` targets is used when nothing else is recognised.
pub fn detect(dir: &Path) -> Option<Stack> {
    if let Some(stack) = STACKS.iter().find(|s| dir.join(s.marker).is_file()) {
        return Some(*stack);
    }
    let makefile = std::fs::read_to_string(dir.join("Makefile")).ok()?;
    let has = |target: &str| {
        makefile
            .lines()
            .any(|l| l.starts_with(&format!("{target}:")))
    };
    match (has("test"), has("build")) {
        (true, true) => Some(MAKE_TEST_BUILD),
        (true, false) => Some(MAKE_TEST),
        (false, true) => Some(MAKE_BUILD),
        (false, false) => None,
    }
}

const MAKE_TEST_BUILD: Stack = Stack {
    name: "Makefile",
    marker: "Makefile",
    commands: &[
        ("test_command", "make test"),
        ("build_command", "make build"),
    ],
};
const MAKE_TEST: Stack = Stack {
    commands: &[("test_command", "make test")],
    ..MAKE_TEST_BUILD
};
const MAKE_BUILD: Stack = Stack {
    commands: &[("build_command", "make build")],
    ..MAKE_TEST_BUILD
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifests_pick_the_stack_and_makefiles_need_targets() {
        let dir = tempfile::tempdir().expect("dir");
        assert_eq!(detect(dir.path()), None);
        std::fs::write(
            dir.path().join("Makefile"),
            "lint:\n\ttrue\ntest:\n\ttrue\n",
        )
        .expect("w");
        let make = detect(dir.path()).expect("make");
        assert_eq!(make.command("test_command"), Some("make test"));
        assert_eq!(make.command("build_command"), None);
        std::fs::write(dir.path().join("go.mod"), "module x\n").expect("w");
        assert_eq!(detect(dir.path()).map(|s| s.name), Some("Go"));
        std::fs::write(dir.path().join("Cargo.toml"), "[package]\n").expect("w");
        let rust = detect(dir.path()).expect("rust");
        assert_eq!(
            rust.command("test_command"),
            Some("cargo test --workspace --locked")
        );
        assert_eq!(rust.command("e2e_test_command"), None);
    }
}
