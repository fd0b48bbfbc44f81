//! Opening a connection for a connector, in the order that keeps it safe: the allow-list
//! first (by name, or by address for a literal IP), then the connection cap, then the
//! host's own resolver, then every resolved address against the special-address rule,
//! then TCP to the first permitted address that answers, then TLS when asked for. Every
//! refusal and failure is logged and returned as a typed error.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use tokio::net::{TcpStream, lookup_host};
use tokio::time::{Instant, timeout_at};

use super::address::SpecialUse;
use super::allow_list::Host;
use super::peer::Peer;
use super::policy::{NetPolicy, special_hint};
use super::stream::{Endpoint, NetConnection};
use crate::runtime::bindings::net::{NetError, Security};

/// Connects `app`'s connector to `host`:`port` if `policy` allows it. Without a policy
/// (no `[network]` table) every connect is denied.
pub async fn open(
    app: Arc<str>,
    policy: Option<&Arc<NetPolicy>>,
    host: &str,
    port: u16,
    security: Security,
) -> Result<NetConnection, NetError> {
    let peer = Peer::new(app, host, port);
    let deny = |reason: String| peer.fail(None, NetError::Denied(reason));
    let Some(policy) = policy else {
        return Err(deny(
            "this app has no [network] allow-list ([apps.NAME.network] allow = [...]), so \
             its connector may not connect anywhere"
                .into(),
        ));
    };
    let host = Host::parse(host).map_err(deny)?;
    policy.admit(&host, port).map_err(deny)?;
    let slot = policy
        .take_slot()
        .ok_or_else(|| peer.fail(None, NetError::Limit))?;
    let deadline = Instant::now() + policy.connect_timeout();
    let resolved = resolve(&host, port, deadline)
        .await
        .map_err(|e| peer.fail(None, e))?;
    let screened = policy.screen(port, &resolved);
    for &(ip, _) in &screened.refused {
        let hint = special_hint(ip, port).unwrap_or_default();
        let reason = format!("{host} resolved to {ip}: {hint}");
        peer.fail(Some(SocketAddr::new(ip, port)), NetError::Denied(reason));
    }
    let mut failure = None;
    for &ip in &screened.permitted {
        let address = SocketAddr::new(ip, port);
        match timeout_at(deadline, TcpStream::connect(address)).await {
            Ok(Ok(tcp)) => {
                let endpoint = Endpoint {
                    peer,
                    host,
                    address,
                };
                return NetConnection::establish(
                    endpoint,
                    tcp,
                    security,
                    policy.clone(),
                    slot,
                    deadline,
                )
                .await;
            }
            Ok(Err(e)) => {
                let error = NetError::Connect(format!("{address}: {e}"));
                failure = Some(peer.fail(Some(address), error));
            }
            Err(_) => return Err(peer.fail(Some(address), NetError::Timeout)),
        }
    }
    Err(failure.unwrap_or_else(|| NetError::Denied(only_special(&host, port, &screened.refused))))
}

/// The addresses `host` leads to: itself for a literal address, else the host's
/// resolver's answer, by `deadline`.
async fn resolve(host: &Host, port: u16, deadline: Instant) -> Result<Vec<IpAddr>, NetError> {
    let name = match host {
        Host::Ip(ip) => return Ok(vec![*ip]),
        Host::Name(name) => name,
    };
    let addresses: Vec<IpAddr> =
        match timeout_at(deadline, lookup_host((name.as_str(), port))).await {
            Ok(Ok(addresses)) => addresses.map(|a| a.ip()).collect(),
            Ok(Err(e)) => return Err(NetError::Resolve(format!("{name}: {e}"))),
            Err(_) => return Err(NetError::Timeout),
        };
    if addresses.is_empty() {
        return Err(NetError::Resolve(format!("{name} has no address")));
    }
    Ok(addresses)
}

/// The denial when every address a name resolved to is special and unlisted.
fn only_special(host: &Host, port: u16, refused: &[(IpAddr, SpecialUse)]) -> String {
    let list: Vec<String> = refused
        .iter()
        .map(|(ip, kind)| format!("{ip} ({kind})"))
        .collect();
    format!(
        "{} resolved only to addresses this app may not reach: {}; an allow-list entry by \
         name never unlocks them: list the address itself (e.g. {}) or a range within its \
         special block",
        host.with_port(port),
        list.join(", "),
        refused
            .first()
            .map_or_else(String::new, |(ip, _)| SocketAddr::new(*ip, port)
                .to_string()),
    )
}
