//! `security_headers`: the response of one URL graded with the MDN Observatory header tests;
//! fails under `min_grade` or when a `require`d header is missing, findings in the evidence.

use std::path::PathBuf;

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;

use crate::figures::{HeaderFinding, HeaderGrade};
use crate::net::NetParams;
use crate::no_answer::Property;
use crate::outcome::{Outcome, Status};
use crate::probe::{ParamIssue, Probe, ProbeContext};
use crate::web::observatory::grade::{self, Finding, Grade};
use crate::web::observatory::{cookies, cross_origin, csp, headers, meta};
use crate::web::page_target::PageTarget;

/// Parameters of `check: { security_headers: {...} }`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SecurityHeadersProbe {
    /// The page whose response headers are graded (usually `https://`).
    pub url: String,
    /// Lowest acceptable Observatory grade (`A+` … `F`); default `B`.
    #[serde(default = "default_min_grade")]
    pub min_grade: String,
    /// Shortest acceptable HSTS max-age in seconds; default 15552000 (180 days).
    #[serde(default = "default_hsts_min_age")]
    pub hsts_min_age: u64,
    /// Headers that must be present whatever the score.
    #[serde(default)]
    pub require: Vec<String>,
    /// Follow redirects and grade the final response (default false: the URL's own response).
    #[serde(default)]
    pub follow_redirects: bool,
    /// PEM bundle added to the trusted roots.
    pub ca_file: Option<PathBuf>,
    /// Extra request headers, e.g. `Authorization: "Basic ${env:STAGING_AUTH}"` for a staging
    /// site behind basic auth (values from `${env:…}` are redacted).
    #[serde(default)]
    pub headers: std::collections::BTreeMap<String, String>,
}

fn default_min_grade() -> String {
    "B".into()
}
fn default_hsts_min_age() -> u64 {
    15_552_000
}

/// Every Observatory header test (and the unscored ones) over one response.
/// `html` is the page body when it is HTML (its `<meta>` CSP and referrer count), else "".
pub fn findings(h: &headers::Headers, html: &str, https: bool, hsts_min_age: u64) -> Vec<Finding> {
    let m = meta::policies(html);
    let meta_csp: Vec<&str> = m.csp.iter().map(String::as_str).collect();
    let hsts = headers::hsts(h, https, hsts_min_age);
    let hsts_ok = hsts.modifier >= 0;
    let set_cookies: Vec<cookies::Cookie> = headers::all(h, "set-cookie")
        .into_iter()
        .filter_map(cookies::parse)
        .collect();
    let mut out = vec![
        hsts,
        csp::evaluate(
            &headers::all(h, "content-security-policy"),
            &meta_csp,
            headers::first(h, "content-security-policy-report-only").is_some(),
            https,
        ),
        headers::x_content_type_options(h),
        headers::x_frame_options(h),
        headers::referrer_policy(h, m.referrer.as_deref()),
        cross_origin::corp(h),
        cross_origin::coop(h),
        cross_origin::coep(h),
        cookies::evaluate(&set_cookies, https, hsts_ok).0,
        headers::permissions_policy(h),
    ];
    out.extend(headers::disclosure(h));
    out
}

/// Where the Observatory would grade anyway (`hsts-invalid-cert`, −20), prodcheck refuses: the
/// `tls` probe owns certificates. The message says so.
fn cert_note(error: &str) -> &'static str {
    if error.to_ascii_lowercase().contains("certificate") {
        "; not graded over an unverified certificate (the Observatory would score it hsts-invalid-cert, -20); fix the certificate (see the tls probe) or set ca_file"
    } else {
        ""
    }
}

#[async_trait]
impl Probe for SecurityHeadersProbe {
    fn planned_requests(&self) -> Vec<(String, u32)> {
        crate::politeness::requests_to(&self.url, 1)
    }

    fn check_params(&self) -> Vec<ParamIssue> {
        let mut issues = self.page().check_params();
        if let Err(e) = self.min_grade.parse::<Grade>() {
            issues.push(ParamIssue::new("min_grade", e));
        }
        for name in &self.require {
            if reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
                issues.push(ParamIssue::new(
                    "require",
                    format!("invalid header name `{name}`"),
                ));
            }
        }
        issues
    }

    fn check_net(&self, net: &NetParams) -> Vec<ParamIssue> {
        self.page().check_net(net)
    }

    async fn run(&self, ctx: &ProbeContext) -> Outcome {
        let min_grade = self.min_grade.parse::<Grade>().unwrap_or(Grade::B);
        let redirects = self.follow_redirects.then_some(10);
        let fetcher = match self.page().fetcher(ctx, redirects) {
            Ok(f) => f.one_shot(),
            Err(e) => return Outcome::error(e),
        };
        let page = match fetcher.get(&self.url, &[], 64 * 1024).await {
            Ok(p) => p,
            Err(e) => {
                let mut outcome = e
                    .outcome(Property::Content, "cannot grade headers")
                    .with("url", self.url.as_str());
                outcome.message.push_str(cert_note(&e.message));
                return outcome;
            }
        };
        let html = if page
            .first("content-type")
            .is_some_and(|t| t.contains("html"))
        {
            page.body.text()
        } else {
            String::new()
        };
        let found = findings(&page.headers, &html, page.https(), self.hsts_min_age);
        let meta_csp = meta::policies(&html).csp;
        let meta_csp: Vec<&str> = meta_csp.iter().map(String::as_str).collect();
        let csp_flags = csp::flags(&page.all("content-security-policy"), &meta_csp);
        let score = grade::score(&found);
        let missing: Vec<&str> = self
            .require
            .iter()
            .filter(|n| page.first(&n.to_ascii_lowercase()).is_none())
            .map(String::as_str)
            .collect();
        let below: Vec<&Finding> = found.iter().filter(|f| f.status != Status::Pass).collect();
        let redirect = (300..400)
            .contains(&page.status)
            .then(|| page.first("location").unwrap_or_default().to_string());

        let mut problems = Vec::new();
        if score.grade < min_grade {
            problems.push(format!(
                "grade {} (score {}) is below min_grade {min_grade}",
                score.grade, score.score
            ));
        }
        if !missing.is_empty() {
            problems.push(format!(
                "required header(s) missing: {}",
                missing.join(", ")
            ));
        }
        let worst = below
            .iter()
            .min_by_key(|f| f.modifier)
            .map(|f| format!("; worst: {} {}", f.header, f.message))
            .unwrap_or_default();
        let (status, message) = if !problems.is_empty() {
            (
                Status::Fail,
                format!("{}: {}{worst}", self.url, problems.join("; ")),
            )
        } else if let Some(to) = &redirect {
            (
                Status::Warn,
                format!(
                    "{}: grade {} (score {}) judged on a {} redirect to `{to}`; set follow_redirects: true to grade the target",
                    self.url, score.grade, score.score, page.status
                ),
            )
        } else {
            (
                Status::Pass,
                format!(
                    "{}: grade {} (score {}), at least {min_grade}{worst}",
                    self.url, score.grade, score.score
                ),
            )
        };
        let mut outcome = Outcome::new(status, message)
            .with("status", page.status)
            .with_figures(&HeaderGrade {
                url: self.url.clone(),
                final_url: (page.url != self.url).then(|| page.url.clone()),
                grade: score.grade.as_str().to_string(),
                score: i64::from(score.score),
                min_grade: Some(min_grade.as_str().to_string()),
                findings: found.iter().map(HeaderFinding::from).collect(),
            });
        let mut lost: Vec<&Finding> = found.iter().filter(|f| f.modifier < 0).collect();
        lost.sort_by_key(|f| f.modifier);
        if !lost.is_empty() {
            // A one-line summary for humans (the report truncates long evidence).
            let text: Vec<String> = lost
                .iter()
                .map(|f| format!("{} ({})", f.header, f.modifier))
                .collect();
            outcome = outcome.with("lost_points", text.join(", "));
        }
        if let Some(flags) = csp_flags {
            outcome = outcome.with("csp", json!(flags));
        }
        if let Some(to) = redirect {
            outcome = outcome.with("redirect_to", to);
        }
        if !missing.is_empty() {
            outcome = outcome.with("missing_required", json!(missing));
        }
        outcome
    }
}

impl SecurityHeadersProbe {
    /// The page this item reads.
    fn page(&self) -> PageTarget<'_> {
        PageTarget::new("url", &self.url, &self.ca_file, &self.headers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(n, v)| (n.to_ascii_lowercase(), v.to_string()))
            .collect()
    }

    fn graded(pairs: &[(&str, &str)], https: bool) -> (i32, &'static str) {
        let s = grade::score(&findings(&h(pairs), "", https, 15_552_000));
        (s.score, s.grade.as_str())
    }

    #[test]
    fn worked_example_everything_strong_is_a_plus_150() {
        let pairs = [
            (
                "Strict-Transport-Security",
                "max-age=63072000; includeSubDomains; preload",
            ),
            (
                "Content-Security-Policy",
                "default-src 'none'; frame-ancestors 'none'",
            ),
            ("X-Content-Type-Options", "nosniff"),
            ("Referrer-Policy", "no-referrer"),
            ("Cross-Origin-Resource-Policy", "same-origin"),
            ("Cross-Origin-Opener-Policy", "same-origin"),
            ("Cross-Origin-Embedder-Policy", "require-corp"),
        ];
        // 100 + 10 (CSP) + 5 (frame-ancestors) + 5 (referrer) + 3 × 10 (CORP/COOP/COEP).
        assert_eq!(graded(&pairs, true), (150, "A+"));
    }

    #[test]
    fn worked_example_no_headers_is_d_30() {
        // HSTS −20, CSP −25, X-Content-Type-Options −5, X-Frame-Options −20.
        assert_eq!(graded(&[], true), (30, "D"));
    }

    #[test]
    fn worked_example_weak_headers_lose_their_bonuses() {
        let pairs = [
            ("Strict-Transport-Security", "max-age=300"),
            (
                "Content-Security-Policy",
                "default-src 'self'; script-src 'self' 'unsafe-inline'",
            ),
            ("X-Frame-Options", "ALLOWALL"),
            ("X-Content-Type-Options", "nosniff"),
            ("Referrer-Policy", "no-referrer"),
        ];
        // −10 −20 −20 = 50 < 90, so the referrer +5 is ignored.
        assert_eq!(graded(&pairs, true), (50, "C"));
    }

    #[test]
    fn worked_example_bonus_counts_from_ninety() {
        let base = [
            ("Strict-Transport-Security", "max-age=63072000"),
            ("Content-Security-Policy", "default-src 'self'"),
            ("X-Frame-Options", "DENY"),
            ("Referrer-Policy", "strict-origin-when-cross-origin"),
        ];
        // Only X-Content-Type-Options missing: 95 uncurved, so −5 +5 +5 +5 = 110.
        assert_eq!(graded(&base, true), (110, "A+"));
        // Also a non-Secure cookie without HSTS protection: 75 uncurved, bonuses ignored.
        let mut weak = base.to_vec();
        weak[0] = ("Strict-Transport-Security", "max-age=60");
        weak.push(("Set-Cookie", "theme=dark"));
        assert_eq!(graded(&weak, true), (65, "B-"));
    }

    #[test]
    fn worked_example_plain_http_loses_hsts() {
        let pairs = [
            (
                "Content-Security-Policy",
                "default-src 'self'; frame-ancestors 'self'",
            ),
            ("X-Content-Type-Options", "nosniff"),
        ];
        // HSTS cannot count over HTTP: −20 → 80, bonuses ignored.
        assert_eq!(graded(&pairs, false), (80, "B+"));
    }

    #[test]
    fn worked_example_meta_policies_count_but_not_for_framing() {
        let h = h(&[
            ("Strict-Transport-Security", "max-age=63072000"),
            ("X-Content-Type-Options", "nosniff"),
        ]);
        let html = r#"<meta http-equiv="Content-Security-Policy" content="default-src 'self'; frame-ancestors 'none'">
            <meta name="referrer" content="no-referrer">"#;
        let found = findings(&h, html, true, 15_552_000);
        // CSP from the meta tag (+5) and Referrer-Policy (+5) count; frame-ancestors does not,
        // so X-Frame-Options is missing (−20): 80, bonuses ignored.
        let s = grade::score(&found);
        assert_eq!((s.score, s.grade.as_str()), (80, "B+"));
        let csp = found.iter().find(|f| f.header == "Content-Security-Policy");
        assert_eq!(csp.map(|f| f.modifier), Some(5));
    }
}
