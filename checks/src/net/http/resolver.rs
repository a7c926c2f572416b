//! `ip_family` and `resolve` for the HTTP client: a reqwest resolver that asks the same
//! `net::lookup` the other probes use, so every probe keeps to one family the same way.

use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::net::{IpFamily, Resolve as Pinned, lookup};

/// Resolves names for one client: `pinned` addresses for one host, the family kept.
#[derive(Debug, Clone)]
pub struct FamilyResolver {
    pub family: IpFamily,
    /// `(host, addresses)`: the item's `resolve`, for its URL's host only.
    pub pinned: Option<(String, Pinned)>,
    pub budget: Duration,
}

impl Resolve for FamilyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let this = self.clone();
        let host = name.as_str().to_ascii_lowercase();
        Box::pin(async move {
            let none = Pinned::default();
            let pinned = match &this.pinned {
                Some((h, addrs)) if *h == host => addrs,
                _ => &none,
            };
            // Port 0: reqwest puts the URL's port in.
            match lookup(&host, 0, this.family, pinned, this.budget).await {
                Ok(addrs) => Ok(Box::new(addrs.into_iter()) as Addrs),
                Err(no) => Err(Box::new(no) as Box<dyn std::error::Error + Send + Sync>),
            }
        })
    }
}

impl FamilyResolver {
    /// The resolver for a client with these options; `None` when the system's is as good.
    pub fn for_options(
        family: IpFamily,
        pinned: &Option<(String, Pinned)>,
        budget: Duration,
    ) -> Option<Arc<FamilyResolver>> {
        if family == IpFamily::Any && pinned.is_none() {
            return None;
        }
        Some(Arc::new(FamilyResolver {
            family,
            pinned: pinned.clone(),
            budget,
        }))
    }
}
