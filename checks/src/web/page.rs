//! One request as the web security probes need it: headers kept in order with lowercased
//! names (repeats included), body capped, the whole exchange bounded by one timeout.

use std::path::PathBuf;
use std::time::Duration;

use reqwest::{Client, Method};

use crate::web::{self, CappedBody};

/// A response as observed.
#[derive(Debug, Clone)]
pub struct Page {
    pub url: String,
    pub status: u16,
    /// (lowercased name, value) in the order received.
    pub headers: Vec<(String, String)>,
    pub body: CappedBody,
}

impl Page {
    pub fn https(&self) -> bool {
        self.url.starts_with("https://")
    }

    pub fn first(&self, name: &str) -> Option<&str> {
        crate::web::observatory::headers::first(&self.headers, name)
    }

    pub fn all(&self, name: &str) -> Vec<&str> {
        crate::web::observatory::headers::all(&self.headers, name)
    }
}

/// A client for the web probes: `ca_file` trusted, redirects followed only when asked.
pub fn client(
    timeout: Duration,
    user_agent: &str,
    ca_file: &Option<PathBuf>,
    max_redirects: Option<usize>,
) -> Result<Client, String> {
    let mut opts = web::ClientOptions::new(timeout, user_agent);
    opts.ca_file = ca_file.clone();
    opts.max_redirects = max_redirects;
    web::client(&opts)
}

/// Sends one request with `headers` and reads at most `cap` bytes, all within `timeout`.
pub async fn fetch(
    client: &Client,
    method: Method,
    url: &str,
    headers: &[(&str, &str)],
    cap: u64,
    timeout: Duration,
) -> Result<Page, String> {
    let exchange = async {
        let mut req = client.request(method.clone(), url);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| format!("{method} {url}: {}", web::describe(&e)))?;
        let status = resp.status().as_u16();
        let final_url = resp.url().to_string();
        let headers = resp
            .headers()
            .iter()
            .map(|(n, v)| (n.as_str().to_ascii_lowercase(), web::header_text(v)))
            .collect();
        let body = web::read_capped(resp, cap)
            .await
            .map_err(|e| format!("{method} {url}: status {status}, then {e}"))?;
        Ok(Page {
            url: final_url,
            status,
            headers,
            body,
        })
    };
    match tokio::time::timeout(timeout, exchange).await {
        Ok(result) => result,
        Err(_) => Err(format!(
            "{method} {url}: timed out after {} ms",
            timeout.as_millis()
        )),
    }
}
