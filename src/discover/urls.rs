//! What discovery's web requests share: body caps, and comparing and shortening the URLs a
//! page names (so `web` and `routes` agree on what is the same service).

/// Pages read up to this size; asset and probe answers much less.
pub(super) const PAGE_CAP: u64 = 512 * 1024;

pub(super) const SMALL_CAP: u64 = 16 * 1024;

pub(super) fn same_host(a: &str, b: &str) -> bool {
    let host = |u: &str| {
        url::Url::parse(u)
            .ok()
            .map(|u| (u.host_str().map(str::to_string), u.port_or_known_default()))
    };
    host(a).is_some() && host(a) == host(b)
}

pub(super) fn path_of(u: &str) -> String {
    url::Url::parse(u).map_or_else(
        |_| u.to_string(),
        |p| {
            let mut s = p.path().to_string();
            if let Some(q) = p.query() {
                s.push('?');
                s.push_str(q);
            }
            s
        },
    )
}
