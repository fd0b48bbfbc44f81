//! The connector end to end against a real OpenLDAP (the test harness's slapd, with the
//! accesslog overlay), through the SDK's `TcpNetwork`, which plays the host's `net`
//! capability over plain TCP, and its `MemoryLog`. Each test works under an
//! organizational unit of its own, used as the base DN, so tests sharing the server stay
//! apart; results are checked with `ldapsearch`, not only through the connector.

mod connection;
mod delta;
mod disable;
mod export;
mod groups;
mod import;
mod naming;
mod nested;

use ferry_connector::testing::{self, MemoryLog, TcpNetwork};
use ferry_connector::types::{
    AddChange, Attribute, AttributeChange, Change, ChangeResult, Object, ObjectRef, Setting,
    SettingValue, UpdateChange, Value,
};
use ferry_connector::{Error, Session, Settings};
use ferry_test_support::{TempSlapd, shared_slapd};

use crate::config::parameters;
use crate::session::LdapSession;

/// A test's own corner of the shared server.
pub struct Fixture {
    /// The server shared by the test process.
    pub slapd: &'static TempSlapd,
    /// The test's organizational unit, the connector's base DN.
    pub ou: String,
    /// The network the sessions connect through, shared with them: cuts connections and
    /// fails writes on purpose.
    pub network: TcpNetwork,
    /// What the sessions logged.
    pub log: MemoryLog,
}

impl Fixture {
    /// A new unit on the shared server.
    pub fn new() -> Self {
        Self::on(shared_slapd())
    }

    /// A new unit on `slapd`: a server of the test's own, for a test whose bulk writes
    /// would crowd the shared server's accesslog.
    pub fn on(slapd: &'static TempSlapd) -> Self {
        Self {
            slapd,
            ou: slapd.unique_ou(),
            network: TcpNetwork::new(),
            log: MemoryLog::new(),
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

    /// A session with `extra` settings, or why it cannot be opened.
    pub fn try_open(&self, extra: &[(&str, SettingValue)]) -> Result<LdapSession, Error> {
        let settings = Settings::parse(self.settings(extra), &parameters())?;
        LdapSession::open(
            Box::new(self.network.clone()),
            Box::new(self.log.clone()),
            &settings,
        )
    }

    /// A session with `extra` settings.
    pub fn open(&self, extra: &[(&str, SettingValue)]) -> LdapSession {
        self.try_open(extra).expect("the settings are valid")
    }

    /// A session with the fixture's settings.
    pub fn connector(&self) -> LdapSession {
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
        self.network.cut_connections();
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
pub fn export_one(connector: &LdapSession, change: Change) -> ChangeResult {
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

/// The watermark a full import hands over.
pub fn full_import_watermark(connector: &LdapSession) -> String {
    testing::import_all(connector, 100)
        .1
        .expect("a delta source is configured")
}
