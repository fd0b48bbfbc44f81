//! The connector end to end against a real OpenLDAP (the test harness's slapd, with the
//! accesslog overlay), through a `Host` that plays the host's `net` capability over plain
//! TCP. Each test works under an organizational unit of its own, used as the base DN, so
//! tests sharing the server stay apart; results are checked with `ldapsearch`, not only
//! through the connector.

mod connection;
mod delta;
mod disable;
mod export;
mod import;

use std::cell::RefCell;
use std::io::{ErrorKind as IoKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::rc::Rc;
use std::time::Duration;

use ferry_test_support::{TempSlapd, shared_slapd};

use crate::ferry::connector::log::Level;
use crate::ferry::connector::net::{NetError, Security};
use crate::ferry::connector::types::{
    AddChange, Attribute, AttributeChange, Change, ChangeResult, DeltaEntry, Object, ObjectRef,
    Setting, SettingValue, UpdateChange, Value,
};
use crate::session::Connector;
use crate::transport::{Host, Transport};

/// What the test host saw: log lines and the streams it opened (so a test can cut them).
#[derive(Default)]
pub struct Seen {
    /// Every line logged, in order.
    pub log: Vec<String>,
    /// A handle on every stream opened, to cut it.
    pub streams: Vec<TcpStream>,
    /// Fail the write this many writes from now (0: the next one), as a connection lost
    /// in flight would.
    pub fail_write_in: Option<usize>,
}

/// The host's `net` and `log`, played over plain TCP.
pub struct TcpHost(pub Rc<RefCell<Seen>>);

impl Host for TcpHost {
    fn connect(
        &self,
        host: &str,
        port: u16,
        security: Security,
    ) -> Result<Box<dyn Transport>, NetError> {
        if security != Security::Plain {
            return Err(NetError::Tls("the native tests speak plain TCP".into()));
        }
        let stream = TcpStream::connect((host, port))
            .map_err(|failure| NetError::Connect(failure.to_string()))?;
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .expect("a read timeout");
        self.0
            .borrow_mut()
            .streams
            .push(stream.try_clone().expect("a clone of the stream"));
        Ok(Box::new(TcpTransport {
            stream,
            seen: Rc::clone(&self.0),
        }))
    }

    fn log(&self, level: Level, message: &str) {
        eprintln!("[{level:?}] {message}");
        self.0.borrow_mut().log.push(message.to_owned());
    }
}

struct TcpTransport {
    stream: TcpStream,
    seen: Rc<RefCell<Seen>>,
}

impl Transport for TcpTransport {
    fn read(&mut self, max: u32) -> Result<Vec<u8>, NetError> {
        let mut buffer = vec![0; max as usize];
        let read = self
            .stream
            .read(&mut buffer)
            .map_err(|failure| match failure.kind() {
                IoKind::WouldBlock | IoKind::TimedOut => NetError::Timeout,
                _ => NetError::Other(failure.to_string()),
            })?;
        buffer.truncate(read);
        Ok(buffer)
    }

    fn write(&mut self, data: &[u8]) -> Result<(), NetError> {
        let mut seen = self.seen.borrow_mut();
        match seen.fail_write_in {
            Some(0) => {
                seen.fail_write_in = None;
                let _ = self.stream.shutdown(Shutdown::Both);
                return Err(NetError::Closed);
            }
            Some(left) => seen.fail_write_in = Some(left - 1),
            None => {}
        }
        self.stream
            .write_all(data)
            .map_err(|failure| NetError::Other(failure.to_string()))
    }

    fn start_tls(&mut self) -> Result<(), NetError> {
        Err(NetError::Tls("the native tests speak plain TCP".into()))
    }
}

/// A test's own corner of the shared server.
pub struct Fixture {
    /// The server shared by the test process.
    pub slapd: &'static TempSlapd,
    /// The test's organizational unit, the connector's base DN.
    pub ou: String,
    /// What the test host saw.
    pub seen: Rc<RefCell<Seen>>,
}

impl Fixture {
    /// A new unit on the shared server.
    pub fn new() -> Self {
        let slapd = shared_slapd();
        Self {
            slapd,
            ou: slapd.unique_ou(),
            seen: Rc::default(),
        }
    }

    /// The settings for this fixture: plain TCP, the admin's simple bind, the OU as base
    /// DN, new users at `uid={uid},{base-dn}`; `extra` replaces or adds settings.
    pub fn settings(&self, extra: &[(&str, SettingValue)]) -> Vec<Setting> {
        let text = |value: &str| SettingValue::String(value.to_owned());
        let mut settings: Vec<(String, SettingValue)> = vec![
            ("host".into(), text("127.0.0.1")),
            (
                "port".into(),
                SettingValue::Integer(i64::from(self.slapd.port())),
            ),
            ("security".into(), text("plain")),
            ("bind-dn".into(), text(self.slapd.admin_dn())),
            ("bind-password".into(), text(self.slapd.admin_password())),
            ("base-dn".into(), text(&self.ou)),
            ("user-dn-template".into(), text("uid={uid},{base-dn}")),
        ];
        for (name, value) in extra {
            settings.retain(|(given, _)| given != name);
            settings.push(((*name).to_owned(), value.clone()));
        }
        settings
            .into_iter()
            .map(|(name, value)| Setting { name, value })
            .collect()
    }

    /// A session with `extra` settings.
    pub fn open(&self, extra: &[(&str, SettingValue)]) -> Connector {
        Connector::open(
            Box::new(TcpHost(Rc::clone(&self.seen))),
            &self.settings(extra),
        )
        .expect("the settings are valid")
    }

    /// A session with the fixture's settings.
    pub fn connector(&self) -> Connector {
        self.open(&[])
    }

    /// Adds a user directly with ldapadd, as someone other than Ferry would.
    pub fn ldapadd_user(&self, uid: &str) -> String {
        let dn = format!("uid={uid},{}", self.ou);
        self.slapd.ldapadd(&format!(
            "dn: {dn}\nobjectClass: inetOrgPerson\nuid: {uid}\ncn: {uid}\nsn: {uid}\n"
        ));
        dn
    }

    /// An attribute of an entry as ldapsearch reads it.
    pub fn read(&self, dn: &str, attribute: &str) -> Option<Vec<String>> {
        let entry = self.slapd.entry(dn)?;
        Some(
            entry
                .into_iter()
                .find(|(name, _)| name.eq_ignore_ascii_case(attribute))
                .map(|(_, values)| values)
                .unwrap_or_default(),
        )
    }

    /// The exit status of `ldapwhoami` binding as `dn` with `password`: 0 when the bind
    /// works, 49 (invalid credentials) when the password is wrong or the account locked.
    pub fn bind(&self, dn: &str, password: &str) -> Option<i32> {
        self.slapd
            .client_command("ldapwhoami")
            .args(["-x", "-H", &self.slapd.url(), "-D", dn, "-w", password])
            .output()
            .expect("cannot run ldapwhoami")
            .status
            .code()
    }

    /// Cuts every connection the connector opened, as a server restart or an idle
    /// timeout would.
    pub fn cut_connections(&self) {
        for stream in self.seen.borrow_mut().streams.drain(..) {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }
}

/// An attribute with text values.
pub fn attribute(name: &str, values: &[&str]) -> Attribute {
    Attribute {
        name: name.to_owned(),
        values: values
            .iter()
            .map(|value| Value::String((*value).to_owned()))
            .collect(),
    }
}

/// An add of a user with these text attributes.
pub fn add(attributes: &[(&str, &[&str])]) -> Change {
    Change::Add(AddChange {
        object_type: "user".to_owned(),
        attributes: attributes
            .iter()
            .map(|(name, values)| attribute(name, values))
            .collect(),
    })
}

/// A user by its anchor.
pub fn user(anchor: &str) -> ObjectRef {
    ObjectRef {
        object_type: "user".into(),
        anchor: anchor.into(),
    }
}

/// An update of the user with this anchor.
pub fn update(anchor: &str, changes: Vec<AttributeChange>) -> Change {
    Change::Update(UpdateChange {
        target: user(anchor),
        changes,
    })
}

/// The one result of a one-change export.
pub fn export_one(connector: &Connector, change: Change) -> ChangeResult {
    let mut results = connector.export(vec![change]);
    assert_eq!(results.len(), 1);
    results.remove(0)
}

/// The text values of an object's attribute.
pub fn texts(object: &Object, name: &str) -> Vec<String> {
    object
        .attributes
        .iter()
        .find(|attribute| attribute.name.eq_ignore_ascii_case(name))
        .map(|attribute| {
            attribute
                .values
                .iter()
                .map(|value| match value {
                    Value::String(text) => text.clone(),
                    other => format!("{other:?}"),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Every delta entry from `watermark` on, read in pages of `page_size` until none is left,
/// and the final watermark. The accesslog is the whole server's, so pages also count the
/// writes of tests running beside this one (skipped, as outside the base DN).
pub fn delta_entries(
    connector: &Connector,
    watermark: &str,
    page_size: u32,
) -> (Vec<DeltaEntry>, String) {
    let mut entries = Vec::new();
    let mut watermark = watermark.to_owned();
    for _ in 0..10_000 {
        let page = connector.delta_import(&watermark, page_size).unwrap();
        assert!(page.entries.len() <= page_size as usize);
        entries.extend(page.entries);
        watermark = page.watermark;
        if !page.more {
            return (entries, watermark);
        }
    }
    panic!("the delta import never finished");
}

/// The watermark a full import hands over.
pub fn full_import_watermark(connector: &Connector) -> String {
    let mut cursor = None;
    loop {
        let page = connector.full_import(cursor.as_deref(), 100).unwrap();
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return page.watermark.expect("a delta source is configured"),
        }
    }
}
