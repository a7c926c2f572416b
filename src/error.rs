//! The user-facing failures of a command, each printed one way and mapped to its exit code in
//! one place (in the spirit of nextest's `ExpectedError`), so no command picks a code itself.

use std::io::IsTerminal;

use colored::Colorize;

use crate::checklist::Diagnostic;
use crate::color::ColorChoice;
use crate::exit_code;

/// Why a command could not do what it was asked.
#[derive(Debug)]
pub enum CliError {
    /// Bad flags, unknown names, a missing file: nothing ran.
    Usage {
        message: String,
        hint: Option<String>,
    },
    /// Invalid checklist or configuration, with positioned diagnostics: nothing ran.
    Invalid {
        diagnostics: Vec<Diagnostic>,
        color: ColorChoice,
    },
    /// prodcheck's own environment failed before anything ran (the async runtime, the demo's
    /// servers).
    Setup { what: String, cause: String },
    /// The run finished, but a requested report could not be written.
    Report { cause: String, run_code: u8 },
    /// Several problems found at once (each printed; the first one's code).
    Several(Vec<CliError>),
}

impl CliError {
    pub fn usage(message: impl Into<String>, hint: Option<&str>) -> Self {
        CliError::Usage {
            message: message.into(),
            hint: hint.map(str::to_string),
        }
    }

    /// Positioned diagnostics of a checklist or of prodcheck.yaml.
    pub fn invalid(diagnostics: Vec<Diagnostic>, color: ColorChoice) -> Self {
        CliError::Invalid { diagnostics, color }
    }

    /// A state file (sign-offs, waivers, history) could not be read or written.
    pub fn state(e: &crate::state::StateError) -> Self {
        CliError::usage(e.to_string(), Some(e.hint()))
    }

    /// The one mapping from failure to exit code (README: exit codes).
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage { .. } | CliError::Invalid { .. } => exit_code::USAGE,
            CliError::Setup { .. } => exit_code::ENVIRONMENT,
            CliError::Report { run_code, .. } => exit_code::after_report_failure(*run_code),
            CliError::Several(all) => all.first().map_or(exit_code::USAGE, CliError::exit_code),
        }
    }

    /// Prints the failure on stderr (what, where, what to do) and returns its exit code.
    pub fn emit(self) -> u8 {
        let code = self.exit_code();
        let error = "error".red().bold();
        let help = "help".bold();
        match self {
            CliError::Usage { message, hint } => {
                eprintln!("{error}: {message}");
                if let Some(h) = hint {
                    eprintln!("  {help}: {h}");
                }
            }
            CliError::Invalid { diagnostics, color } => print_diagnostics(&diagnostics, color),
            CliError::Setup { what, cause } => {
                eprintln!("{error}: {what}: {cause}");
                eprintln!(
                    "  {help}: this is about the machine prodcheck runs on, not the checklist; nothing was checked"
                );
            }
            CliError::Several(all) => {
                for e in all {
                    e.emit();
                }
            }
            CliError::Report { cause, run_code } => {
                eprintln!("{error}: {cause}");
                eprintln!(
                    "  {help}: check that the report's directory exists and is writable; the run itself ended with exit code {run_code}"
                );
            }
        }
        code
    }
}

/// Prints diagnostics on stderr (coloured when stderr is a terminal).
pub fn print_diagnostics(diags: &[Diagnostic], color: ColorChoice) {
    let saved = crate::color::use_color(color, std::io::stdout().is_terminal());
    colored::control::set_override(crate::color::use_color(
        color,
        std::io::stderr().is_terminal(),
    ));
    for d in diags {
        eprint!("{}", d.render());
    }
    if diags.len() > 1 {
        eprintln!(
            "{}: {} problems found; nothing was run",
            "error".red().bold(),
            diags.len()
        );
    }
    colored::control::set_override(saved);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_failure_has_one_code() {
        assert_eq!(CliError::usage("x", None).exit_code(), exit_code::USAGE);
        let setup = CliError::Setup {
            what: "the demo could not start".into(),
            cause: "address in use".into(),
        };
        assert_eq!(setup.exit_code(), exit_code::ENVIRONMENT);
        let report = |run_code| CliError::Report {
            cause: "cannot write".into(),
            run_code,
        };
        assert_eq!(report(exit_code::OK).exit_code(), exit_code::ENVIRONMENT);
        assert_eq!(report(exit_code::FAILED).exit_code(), exit_code::FAILED);
    }
}
