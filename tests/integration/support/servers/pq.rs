//! A rustls server that selects the hybrid post-quantum group X25519MLKEM768: the machine's
//! OpenSSL (3.0) has no ML-KEM, so the group is a custom rustls `SupportedKxGroup` built from
//! the pure-Rust `ml-kem` and `x25519-dalek` crates (test-only), server and client side.

use std::sync::Arc;

use ml_kem::kem::{Decapsulate, Encapsulate};
use ml_kem::{Encoded, EncodedSizeUser, KemCore, MlKem768};
use rand_core::OsRng;
use rustls::crypto::{ActiveKeyExchange, CompletedKeyExchange, CryptoProvider, SharedSecret};
use rustls::crypto::{SupportedKxGroup, ring as provider};
use rustls::{Error, NamedGroup, ProtocolVersion};
use tokio::net::TcpListener;

use crate::support::Background;

/// IANA code of X25519MLKEM768.
const CODE: u16 = 0x11ec;
const EK_LEN: usize = 1184;
const CT_LEN: usize = 1088;

/// X25519MLKEM768: ML-KEM-768 first, then X25519, in shares and in the secret
/// (draft-ietf-tls-ecdhe-mlkem, 3).
#[derive(Debug)]
pub struct X25519MlKem768;

pub static HYBRID: X25519MlKem768 = X25519MlKem768;

fn bad(what: &str) -> Error {
    Error::General(format!("X25519MLKEM768: {what}"))
}

fn x25519_secret() -> x25519_dalek::StaticSecret {
    x25519_dalek::StaticSecret::random_from_rng(OsRng)
}

impl SupportedKxGroup for X25519MlKem768 {
    fn start(&self) -> Result<Box<dyn ActiveKeyExchange>, Error> {
        let (dk, ek) = MlKem768::generate(&mut OsRng);
        let x = x25519_secret();
        let mut share = ek.as_bytes().to_vec();
        share.extend_from_slice(x25519_dalek::PublicKey::from(&x).as_bytes());
        Ok(Box::new(ClientSide { dk, x, share }))
    }

    /// The server's side: encapsulate to the client's key, answer ciphertext || X25519 share.
    fn start_and_complete(&self, client: &[u8]) -> Result<CompletedKeyExchange, Error> {
        if client.len() != EK_LEN + 32 {
            return Err(bad("client share of the wrong length"));
        }
        let ek = Encoded::<<MlKem768 as KemCore>::EncapsulationKey>::try_from(&client[..EK_LEN])
            .map_err(|_| bad("encapsulation key"))?;
        let ek = <MlKem768 as KemCore>::EncapsulationKey::from_bytes(&ek);
        let (ct, ss) = ek
            .encapsulate(&mut OsRng)
            .map_err(|_| bad("encapsulation"))?;
        let x = x25519_secret();
        let mut peer = [0u8; 32];
        peer.copy_from_slice(&client[EK_LEN..]);
        let dh = x.diffie_hellman(&x25519_dalek::PublicKey::from(peer));
        let mut pub_key = ct.to_vec();
        pub_key.extend_from_slice(x25519_dalek::PublicKey::from(&x).as_bytes());
        let mut secret = ss.to_vec();
        secret.extend_from_slice(dh.as_bytes());
        Ok(CompletedKeyExchange {
            group: self.name(),
            pub_key,
            secret: SharedSecret::from(secret),
        })
    }

    fn name(&self) -> NamedGroup {
        NamedGroup::from(CODE)
    }

    fn usable_for_version(&self, version: ProtocolVersion) -> bool {
        version == ProtocolVersion::TLSv1_3
    }
}

struct ClientSide {
    dk: <MlKem768 as KemCore>::DecapsulationKey,
    x: x25519_dalek::StaticSecret,
    share: Vec<u8>,
}

impl ActiveKeyExchange for ClientSide {
    fn complete(self: Box<Self>, server: &[u8]) -> Result<SharedSecret, Error> {
        if server.len() != CT_LEN + 32 {
            return Err(bad("server share of the wrong length"));
        }
        let ct = ml_kem::Ciphertext::<MlKem768>::try_from(&server[..CT_LEN])
            .map_err(|_| bad("ciphertext"))?;
        let ss = self.dk.decapsulate(&ct).map_err(|_| bad("decapsulation"))?;
        let mut peer = [0u8; 32];
        peer.copy_from_slice(&server[CT_LEN..]);
        let dh = self.x.diffie_hellman(&x25519_dalek::PublicKey::from(peer));
        let mut secret = ss.to_vec();
        secret.extend_from_slice(dh.as_bytes());
        Ok(SharedSecret::from(secret))
    }

    fn pub_key(&self) -> &[u8] {
        &self.share
    }

    fn group(&self) -> NamedGroup {
        NamedGroup::from(CODE)
    }
}

/// ring's provider with X25519MLKEM768 first, then ring's classic groups.
pub fn hybrid_provider() -> Arc<CryptoProvider> {
    let mut p = provider::default_provider();
    p.kx_groups.insert(0, &HYBRID);
    Arc::new(p)
}

/// A rustls TLS server on 127.0.0.1 that prefers X25519MLKEM768, serving `leaf`.
pub fn pq_server(leaf: &prodcheck::demo::pki::Leaf) -> Background {
    let config = rustls::ServerConfig::builder_with_provider(hybrid_provider())
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(vec![leaf.cert_der.clone()], leaf.key())
        .expect("server config");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    Background::spawn(move || async move {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let serve = async move {
            // Bounded: the probe opens a few dozen connections (scans), never this many.
            for _ in 0..500 {
                let Ok((stream, _)) = listener.accept().await else {
                    break;
                };
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let _ = acceptor.accept(stream).await;
                });
            }
        };
        (addr, Box::pin(serve) as _)
    })
}
