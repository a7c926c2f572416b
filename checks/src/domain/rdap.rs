//! What prodcheck reads from RDAP JSON: the bootstrap registry's services (which server
//! serves a TLD) and a domain object's expiration event and statuses (RFC 9083 §4.5, §10.2.2).

use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The RDAP base URL the bootstrap registry `doc` names for `domain`: the longest matching
/// label suffix wins (`co.uk` over `uk`), the first URL (https preferred) of its entry.
pub fn server_for(doc: &Value, domain: &str) -> Option<String> {
    let domain = domain.trim_end_matches('.').to_ascii_lowercase();
    let mut best: Option<(usize, String)> = None;
    for service in doc.get("services")?.as_array()? {
        let (Some(names), Some(urls)) = (
            service.get(0).and_then(Value::as_array),
            service.get(1).and_then(Value::as_array),
        ) else {
            continue;
        };
        let urls: Vec<&str> = urls.iter().filter_map(Value::as_str).collect();
        let url = urls
            .iter()
            .find(|u| u.starts_with("https://"))
            .or(urls.first());
        let Some(url) = url else { continue };
        for name in names.iter().filter_map(Value::as_str) {
            let name = name.to_ascii_lowercase();
            let matches = domain == name || domain.ends_with(&format!(".{name}"));
            if matches && best.as_ref().is_none_or(|(len, _)| name.len() > *len) {
                best = Some((name.len(), url.to_string()));
            }
        }
    }
    best.map(|(_, url)| url)
}

/// `base` + `domain/<name>` (RFC 9082 §3.1.3), with exactly one slash between.
pub fn domain_url(base: &str, domain: &str) -> String {
    format!(
        "{}/domain/{}",
        base.trim_end_matches('/'),
        domain.trim_end_matches('.').to_ascii_lowercase()
    )
}

/// The parts of a domain object prodcheck judges.
#[derive(Debug, Default, PartialEq)]
pub struct Registration {
    pub expires: Option<OffsetDateTime>,
    /// As the registry wrote them (`client transfer prohibited`, `pending delete`).
    pub statuses: Vec<String>,
    pub registrar: Option<String>,
}

/// Reads a domain object; an error says what is missing.
pub fn registration(doc: &Value) -> Result<Registration, String> {
    if doc.get("objectClassName").and_then(Value::as_str) != Some("domain") {
        return Err(
            "the answer is not an RDAP domain object (objectClassName is not `domain`)".into(),
        );
    }
    let mut reg = Registration::default();
    for event in doc
        .get("events")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if event.get("eventAction").and_then(Value::as_str) == Some("expiration")
            && let Some(date) = event.get("eventDate").and_then(Value::as_str)
        {
            reg.expires = Some(
                OffsetDateTime::parse(date, &Rfc3339)
                    .map_err(|e| format!("its expiration date `{date}` is not RFC 3339 ({e})"))?,
            );
        }
    }
    reg.statuses = doc
        .get("status")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect();
    reg.registrar = doc
        .get("entities")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|e| {
            e.get("roles")
                .and_then(Value::as_array)
                .is_some_and(|r| r.iter().any(|x| x == "registrar"))
        })
        .and_then(vcard_name);
    Ok(reg)
}

/// The `fn` of an entity's jCard (`["vcard", [["fn", {}, "text", "Name"], ...]]`).
fn vcard_name(entity: &Value) -> Option<String> {
    entity
        .get("vcardArray")?
        .get(1)?
        .as_array()?
        .iter()
        .find(|p| p.get(0).and_then(Value::as_str) == Some("fn"))?
        .get(3)?
        .as_str()
        .map(str::to_string)
}

/// A status compared without case or spaces: `clientHold` (EPP) = `client hold` (RDAP).
pub fn normalize(status: &str) -> String {
    status
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '_' && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_longest_bootstrap_suffix_wins() {
        let doc = json!({"services": [
            [["uk"], ["https://uk.example/rdap/"]],
            [["co.uk"], ["http://co.example/", "https://co.example/"]],
        ]});
        assert_eq!(
            server_for(&doc, "shop.co.uk").as_deref(),
            Some("https://co.example/")
        );
        assert_eq!(
            server_for(&doc, "x.uk").as_deref(),
            Some("https://uk.example/rdap/")
        );
        assert_eq!(server_for(&doc, "x.com"), None);
        assert_eq!(
            domain_url("https://r/v1/", "Ex.COM."),
            "https://r/v1/domain/ex.com"
        );
    }

    #[test]
    fn expiry_statuses_and_registrar_are_read() {
        let doc = json!({
            "objectClassName": "domain",
            "status": ["client transfer prohibited", "pending delete"],
            "events": [
                {"eventAction": "registration", "eventDate": "2020-01-01T00:00:00Z"},
                {"eventAction": "expiration", "eventDate": "2027-03-04T05:06:07Z"}
            ],
            "entities": [{"roles": ["registrar"], "vcardArray": ["vcard", [["version", {}, "text", "4.0"], ["fn", {}, "text", "Reg Inc"]]]}]
        });
        let reg = registration(&doc).unwrap_or_default();
        assert_eq!(reg.expires.map(|d| d.year()), Some(2027));
        assert_eq!(reg.statuses.len(), 2);
        assert_eq!(reg.registrar.as_deref(), Some("Reg Inc"));
        assert_eq!(normalize("pendingDelete"), normalize("pending delete"));
        assert!(registration(&json!({"objectClassName": "entity"})).is_err());
    }
}
