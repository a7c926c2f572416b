//! Observatory scoring: one [`Finding`] per test, summed into a score and a letter grade
//! exactly as `mdn-http-observatory` does (extra credit only from an uncurved 90 up).

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use crate::outcome::Status;

/// The result of one Observatory test (or one informational, unscored check).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The header the test is about (`Strict-Transport-Security`).
    pub header: String,
    /// `pass`, `warn` or `fail` (see [`status_for`]).
    pub status: Status,
    /// The Observatory result name (`hsts-implemented-max-age-less-than-six-months`).
    pub result: String,
    /// Points added to or taken from the score.
    pub modifier: i32,
    /// What is wrong and what good looks like.
    pub message: String,
}

impl From<&Finding> for crate::figures::HeaderFinding {
    fn from(f: &Finding) -> Self {
        crate::figures::HeaderFinding {
            header: f.header.clone(),
            status: f.status,
            result: f.result.clone(),
            modifier: f.modifier,
            message: f.message.clone(),
        }
    }
}

impl Finding {
    /// A scored finding; `pass` is the Observatory's own pass flag.
    pub fn scored(header: &str, result: &str, modifier: i32, pass: bool, message: String) -> Self {
        Finding {
            header: header.to_string(),
            status: status_for(pass, modifier),
            result: result.to_string(),
            modifier,
            message,
        }
    }

    /// An unscored finding (modifier 0): `warn` when `ok` is false.
    pub fn info(header: &str, result: &str, ok: bool, message: String) -> Self {
        Finding {
            header: header.to_string(),
            status: if ok { Status::Pass } else { Status::Warn },
            result: result.to_string(),
            modifier: 0,
            message,
        }
    }
}

/// prodcheck's severity policy over Observatory results: a failed test costing 20 points or
/// more is a `fail`; a smaller penalty (or a passing result that still costs points) a `warn`.
pub fn status_for(pass: bool, modifier: i32) -> Status {
    match (pass, modifier) {
        (false, m) if m <= -20 => Status::Fail,
        (false, _) => Status::Warn,
        (true, m) if m < 0 => Status::Warn,
        (true, _) => Status::Pass,
    }
}

/// Observatory letter grades, worst first so that `Ord` means "better than".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Grade {
    F,
    DMinus,
    D,
    DPlus,
    CMinus,
    C,
    CPlus,
    BMinus,
    B,
    BPlus,
    AMinus,
    A,
    APlus,
}

const NAMES: [(Grade, &str); 13] = [
    (Grade::F, "F"),
    (Grade::DMinus, "D-"),
    (Grade::D, "D"),
    (Grade::DPlus, "D+"),
    (Grade::CMinus, "C-"),
    (Grade::C, "C"),
    (Grade::CPlus, "C+"),
    (Grade::BMinus, "B-"),
    (Grade::B, "B"),
    (Grade::BPlus, "B+"),
    (Grade::AMinus, "A-"),
    (Grade::A, "A"),
    (Grade::APlus, "A+"),
];

impl Grade {
    pub fn as_str(self) -> &'static str {
        NAMES
            .iter()
            .find(|(g, _)| *g == self)
            .map(|(_, n)| *n)
            .unwrap_or("F")
    }

    /// The grade of a final score (GRADE_CHART of `charts.js`).
    pub fn for_score(score: i32) -> Grade {
        let bucket = (score.max(0) - score.max(0) % 5).min(100);
        match bucket {
            100 => Grade::APlus,
            90 | 95 => Grade::A,
            85 => Grade::AMinus,
            80 => Grade::BPlus,
            70 | 75 => Grade::B,
            65 => Grade::BMinus,
            60 => Grade::CPlus,
            50 | 55 => Grade::C,
            45 => Grade::CMinus,
            40 => Grade::DPlus,
            30 | 35 => Grade::D,
            25 => Grade::DMinus,
            _ => Grade::F,
        }
    }
}

impl fmt::Display for Grade {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Grade {
    type Err = String;
    fn from_str(s: &str) -> Result<Grade, String> {
        let t = s.trim().to_ascii_uppercase();
        NAMES
            .iter()
            .find(|(_, n)| *n == t)
            .map(|(g, _)| *g)
            .ok_or_else(|| {
                format!(
                    "invalid grade `{s}`: use one of A+, A, A-, B+, B, B-, C+, C, C-, D+, D, D-, F"
                )
            })
    }
}

/// Score and grade of a set of findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Score {
    pub score: i32,
    pub grade: Grade,
}

/// Starts at 100; bonuses count only when the penalties alone leave at least 90.
pub fn score(findings: &[Finding]) -> Score {
    let with_extra: i32 = 100 + findings.iter().map(|f| f.modifier).sum::<i32>();
    let uncurved: i32 = 100 + findings.iter().map(|f| f.modifier.min(0)).sum::<i32>();
    let score = if uncurved >= 90 { with_extra } else { uncurved }.max(0);
    Score {
        score,
        grade: Grade::for_score(score),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(modifier: i32) -> Finding {
        Finding::scored("X", "x", modifier, modifier >= 0, String::new())
    }

    #[test]
    fn grade_chart_buckets() {
        let cases = [
            (150, "A+"),
            (100, "A+"),
            (99, "A"),
            (90, "A"),
            (85, "A-"),
            (80, "B+"),
            (79, "B"),
            (70, "B"),
            (65, "B-"),
            (60, "C+"),
            (50, "C"),
            (45, "C-"),
            (40, "D+"),
            (30, "D"),
            (25, "D-"),
            (20, "F"),
            (0, "F"),
        ];
        for (s, g) in cases {
            assert_eq!(Grade::for_score(s).as_str(), g, "score {s}");
        }
    }

    #[test]
    fn extra_credit_only_from_ninety() {
        // Penalties leave 90: bonuses count.
        assert_eq!(score(&[f(-10), f(5), f(10)]).score, 105);
        // Penalties leave 85: bonuses are ignored.
        assert_eq!(score(&[f(-15), f(5), f(10)]).score, 85);
        // Never below zero.
        assert_eq!(score(&[f(-50), f(-40), f(-30)]).score, 0);
    }

    #[test]
    fn grades_parse_and_order() {
        assert_eq!("b".parse::<Grade>(), Ok(Grade::B));
        assert_eq!("A+".parse::<Grade>(), Ok(Grade::APlus));
        assert!("E".parse::<Grade>().is_err());
        assert!(Grade::APlus > Grade::A && Grade::BMinus < Grade::B);
    }

    #[test]
    fn severity_policy() {
        assert_eq!(status_for(false, -20), Status::Fail);
        assert_eq!(status_for(false, -5), Status::Warn);
        assert_eq!(status_for(true, -10), Status::Warn);
        assert_eq!(status_for(true, 5), Status::Pass);
    }
}
