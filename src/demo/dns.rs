//! A DNS server on 127.0.0.1 (UDP and TCP on one port) serving one zone from its text, for
//! the demo's domain items and for tests. hickory-server does the protocol work.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use hickory_server::Server;
use hickory_server::net::runtime::TokioRuntimeProvider;
use hickory_server::proto::rr::{LowerName, Name};
use hickory_server::proto::serialize::txt::Parser;
use hickory_server::store::in_memory::InMemoryZoneHandler;
use hickory_server::zone_handler::{AxfrPolicy, Catalog, ZoneType};

use crate::demo::service::ServerHandle;

/// A running DNS server; dropping it stops it.
pub type DnsHandle = ServerHandle;

/// Serves the zone `origin` (e.g. `example.test.`) described by `zone` (master-file text).
pub async fn serve(origin: &str, zone: &str) -> anyhow::Result<DnsHandle> {
    let origin = Name::from_ascii(origin).context("zone origin")?;
    let (origin, records) = Parser::new(zone, None, Some(origin))
        .parse()
        .context("zone text")?;
    let handler = InMemoryZoneHandler::<TokioRuntimeProvider>::new(
        origin.clone(),
        records,
        ZoneType::Primary,
        AxfrPolicy::Deny,
    )
    .map_err(|e| anyhow::anyhow!("zone: {e}"))?;
    let mut catalog = Catalog::new();
    catalog.upsert(LowerName::from(&origin), vec![Arc::new(handler)]);
    let mut server = Server::new(catalog);
    // UDP on a free port, then TCP on the same port (a few tries if TCP's is taken).
    let mut bound = None;
    for _ in 0..20 {
        let udp = tokio::net::UdpSocket::bind("127.0.0.1:0").await?;
        let addr = udp.local_addr()?;
        if let Ok(tcp) = tokio::net::TcpListener::bind(addr).await {
            bound = Some((udp, tcp, addr));
            break;
        }
    }
    let (udp, tcp, addr) = bound.context("no free UDP+TCP port pair on 127.0.0.1")?;
    server.register_socket(udp);
    server.register_listener(tcp, Duration::from_secs(5), 4096);
    let task = tokio::spawn(async move {
        // Runs until the handle is dropped (which aborts this task and the server with it).
        std::future::pending::<()>().await;
        drop(server);
    });
    Ok(DnsHandle { addr, task })
}
