//! Politeness across a run: a per-host limit on concurrent requests shared by every probe, and
//! the memory of what each host said about throttling (largest `Retry-After`, last request).

/// Default number of concurrent requests prodcheck sends to one host.
pub const DEFAULT_PER_HOST: usize = 4;

/// Shared by every probe of one run (see `ProbeContext::politeness`).
#[derive(Debug)]
pub struct Politeness {
    per_host: usize,
}

impl Politeness {
    /// At most `per_host` requests in flight to any one host (at least 1).
    pub fn new(per_host: usize) -> Self {
        Politeness {
            per_host: per_host.max(1),
        }
    }

    pub fn per_host(&self) -> usize {
        self.per_host
    }
}

impl Default for Politeness {
    fn default() -> Self {
        Politeness::new(DEFAULT_PER_HOST)
    }
}
