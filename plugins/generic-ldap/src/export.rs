//! Exports: each change on its own, in order, one result per change; a failed change does
//! not stop the others. Every write is checked against the user schema first (unknown
//! and read-only attributes are the IdP's mistake, not the server's), and every change
//! that leaves a user returns it as read back from the server by its anchor.
//!
//! * add: the DN from the template, `objectClass` from the configuration, the given
//!   attributes (`userPassword` as given: the initial password), and the lock when
//!   `active` is false;
//! * update: one modify (replace / add values / delete values; clear is a replace with no
//!   values, which removes the attribute whether or not it is there). Changes of `active`
//!   become the one modification of the lock attribute that leaves the user in the state
//!   they end in (clear: enabled), none when the user is in it already. When the update
//!   takes away the value an RDN is made of, the entry is first renamed (modrdn) to the
//!   new value, then modified;
//! * rename: modrdn to the new name, a full DN (or a lone RDN, kept under the same parent);
//! * delete: a delete of the user's DN.

use ldap3_proto::proto::{
    LdapAddRequest, LdapAttribute, LdapModify, LdapModifyDNRequest, LdapModifyRequest,
    LdapModifyType, LdapPartialAttribute, LdapSearchScope,
};

use ferry_connector::types::{
    AddChange, Attribute, AttributeChange, Error, Object, ObjectRef, RenameChange, UpdateChange,
    Value,
};

use crate::config::Anchor;
use crate::directory::{present, search_request};
use crate::disable;
use crate::dn::{Ava, Dn, Rdn};
use crate::entries::{Entry, find_user};
use crate::schema::{AttributeInfo, OBJECT_CLASS, USER};
use crate::session::Context;
use crate::values::{as_text, to_ldap};

/// Adds a user; returns it as read back.
pub fn add(context: &Context, change: &AddChange) -> Result<Object, Error> {
    user_type(&change.object_type)?;
    add_user(context, &change.attributes)
}

/// Modifies a user; returns it as read back.
pub fn update(context: &Context, change: &UpdateChange) -> Result<Object, Error> {
    user_type(&change.target.object_type)?;
    update_user(context, change)
}

/// Renames a user; returns it as read back.
pub fn rename(context: &Context, change: &RenameChange) -> Result<Object, Error> {
    user_type(&change.target.object_type)?;
    rename_user(context, change)
}

/// Deletes a user.
pub fn delete(context: &Context, target: &ObjectRef) -> Result<(), Error> {
    user_type(&target.object_type)?;
    delete_user(context, target)
}

fn user_type(object_type: &str) -> Result<(), Error> {
    if object_type == USER {
        Ok(())
    } else {
        Err(Error::invalid_input(format!(
            "generic-ldap has no object type '{object_type}'; it provisions '{USER}'"
        )))
    }
}

/// The schema entry of an attribute a change writes; unknown and read-only ones are
/// refused, and so are several values for a single-valued one.
fn writable<'a>(
    context: &'a Context,
    name: &str,
    values: &[Value],
) -> Result<&'a AttributeInfo, Error> {
    let info = context.schema.attribute(name).ok_or_else(|| {
        Error::invalid_input(format!(
            "'{name}' is not an attribute of the configured user object classes"
        ))
        .attribute(name)
    })?;
    if info.read_only {
        return Err(Error::invalid_input(format!("'{}' is read-only", info.name)).attribute(name));
    }
    if !info.multi_valued && values.len() > 1 {
        return Err(Error::invalid_input(format!(
            "'{}' is single-valued; {} values were given",
            info.name,
            values.len()
        ))
        .attribute(name));
    }
    Ok(info)
}

fn ldap_attribute(name: &str, values: &[Value]) -> LdapPartialAttribute {
    LdapPartialAttribute {
        atype: name.to_owned(),
        vals: values.iter().map(to_ldap).collect(),
    }
}

fn add_user(context: &Context, attributes: &[Attribute]) -> Result<Object, Error> {
    let config = context.config;
    let mut written: Vec<LdapAttribute> = vec![LdapAttribute {
        atype: OBJECT_CLASS.to_owned(),
        vals: config
            .user_object_classes
            .iter()
            .map(|class| class.as_bytes().to_vec())
            .collect(),
    }];
    let mut given: Vec<&str> = Vec::with_capacity(attributes.len());
    let mut active = true;
    for attribute in attributes {
        let info = writable(context, &attribute.name, &attribute.values)?;
        if given.contains(&info.name.as_str()) {
            return Err(
                Error::invalid_input(format!("'{}' is given twice", info.name))
                    .attribute(&attribute.name),
            );
        }
        given.push(&info.name);
        if context.schema.active(&info.name).is_some() {
            active = disable::wanted(&attribute.values)?;
        } else if !attribute.values.is_empty() {
            written.push(ldap_attribute(&info.name, &attribute.values));
        }
    }
    if let Some(disabling) = context.schema.disabling().filter(|_| !active) {
        disabling.disable_new(&mut written);
    }
    let dn = config
        .user_dn_template
        .expand(&config.base_dn.to_string(), |name| {
            attributes
                .iter()
                .find(|attribute| {
                    context
                        .schema
                        .attribute(&attribute.name)
                        .zip(context.schema.attribute(name))
                        .is_some_and(|(given, wanted)| given.name == wanted.name)
                })
                .and_then(|attribute| attribute.values.first())
                .and_then(as_text)
        })
        .map_err(Error::invalid_input)?;
    let request = LdapAddRequest {
        dn: dn.clone(),
        attributes: written,
    };
    context
        .directory
        .write(&format!("adding '{dn}'"), |client| {
            client.add(request.clone())
        })?;
    read_back_at(context, &dn)
}

/// The user `target` names, as the directory holds it now; `None` when no entry under
/// the base DN matching the user filter has that anchor.
pub fn read(context: &Context, target: &ObjectRef) -> Result<Option<Object>, Error> {
    user_type(&target.object_type)?;
    find_user(context, &target.anchor)?
        .map(|entry| entry.to_object(context))
        .transpose()
}

/// A new entry, read back at its DN (the anchor is learnt here).
fn read_back_at(context: &Context, dn: &str) -> Result<Object, Error> {
    let request = search_request(
        dn,
        LdapSearchScope::Base,
        present(OBJECT_CLASS),
        &context.schema.requested(),
    );
    let entry = context
        .directory
        .search(&format!("reading back '{dn}'"), &request)?
        .pop()
        .ok_or_else(|| Error::internal(format!("'{dn}' was added but cannot be read back")))?;
    entry.to_object(context)
}

/// A changed user, read back by its anchor.
fn read_back(context: &Context, anchor: &str) -> Result<Object, Error> {
    find_user(context, anchor)?
        .ok_or_else(|| {
            Error::not_found(format!(
                "user '{anchor}' was changed but no longer matches the user filter under the \
                 base DN"
            ))
        })?
        .to_object(context)
}

/// The user a change targets.
fn target(context: &Context, target: &ObjectRef) -> Result<Entry, Error> {
    find_user(context, &target.anchor)?.ok_or_else(|| {
        Error::not_found(format!(
            "there is no user '{}' under '{}' matching the user filter",
            target.anchor, context.config.base_dn
        ))
    })
}

fn parse_dn(dn: &str) -> Result<Dn, Error> {
    Dn::parse(dn)
        .map_err(|why| Error::internal(format!("the server's DN '{dn}' does not parse: {why}")))
}

fn update_user(context: &Context, update: &UpdateChange) -> Result<Object, Error> {
    let entry = target(context, &update.target)?;
    let disabling = context.schema.disabling();
    let mut active = disabling.is_none_or(|disabling| disabling.is_active(&entry));
    let mut modifications = Vec::new();
    for change in &update.changes {
        let operation = match change {
            AttributeChange::AddValues(_) => LdapModifyType::Add,
            AttributeChange::RemoveValues(_) => LdapModifyType::Delete,
            // A clear is a replace with no values: it removes the attribute, and is no
            // error when it is already absent (a delete of an absent attribute would be).
            AttributeChange::Replace(_) | AttributeChange::Clear(_) => LdapModifyType::Replace,
        };
        let (name, values) = (change.name(), change.values());
        let info = writable(context, name, values)?;
        if context.schema.active(&info.name).is_some() {
            active = disable::after(&operation, values, active)?;
            continue;
        }
        // Adding or removing no values changes nothing (and a delete with no values would
        // remove every value).
        if values.is_empty() && operation != LdapModifyType::Replace {
            continue;
        }
        modifications.push(LdapModify {
            operation,
            modification: ldap_attribute(&info.name, values),
        });
    }
    if let Some(disabling) = disabling {
        modifications.extend(disabling.modification(&entry, active));
    }
    let current = parse_dn(&entry.dn)?;
    let mut dn = entry.dn.clone();
    if let Some(new_rdn) = renamed_rdn(context, &entry, &current, &modifications)? {
        if context.config.anchor == Anchor::Dn {
            return Err(Error::unsupported(format!(
                "the update changes the RDN of '{dn}', which would change its anchor \
                 (anchor = \"dn\")"
            )));
        }
        let new_dn = current.parent().child(new_rdn.clone()).to_string();
        let request = LdapModifyDNRequest {
            dn: dn.clone(),
            newrdn: new_rdn.to_string(),
            deleteoldrdn: true,
            new_superior: None,
        };
        context
            .directory
            .write(&format!("renaming '{dn}' to '{new_rdn}'"), |client| {
                client.modify_dn(request.clone())
            })?;
        // The modrdn removed the old RDN values: removing them again would fail.
        for modification in &mut modifications {
            if modification.operation == LdapModifyType::Delete {
                modification.modification.vals.retain(|value| {
                    !current.rdns[0].avas.iter().any(|ava| {
                        ava.attribute
                            .eq_ignore_ascii_case(&modification.modification.atype)
                            && same_text(value, &ava.value)
                    })
                });
            }
        }
        modifications.retain(|modification| {
            modification.operation != LdapModifyType::Delete
                || !modification.modification.vals.is_empty()
        });
        dn = new_dn;
    }
    if !modifications.is_empty() {
        let request = LdapModifyRequest {
            dn: dn.clone(),
            changes: modifications,
        };
        context
            .directory
            .write(&format!("modifying '{dn}'"), |client| {
                client.modify(request.clone())
            })?;
    }
    read_back(context, &update.target.anchor)
}

/// The RDN the entry must take when the modifications remove a value its RDN is made of;
/// none when the RDN survives them.
fn renamed_rdn(
    context: &Context,
    entry: &Entry,
    current: &Dn,
    modifications: &[LdapModify],
) -> Result<Option<Rdn>, Error> {
    let Some(rdn) = current.rdns.first() else {
        return Ok(None);
    };
    let mut renamed = false;
    let mut avas = Vec::with_capacity(rdn.avas.len());
    for ava in &rdn.avas {
        let canonical = context
            .schema
            .attribute(&ava.attribute)
            .map_or(ava.attribute.as_str(), |info| info.name.as_str());
        let touching: Vec<&LdapModify> = modifications
            .iter()
            .filter(|modification| modification.modification.atype == canonical)
            .collect();
        if touching.is_empty() {
            avas.push(ava.clone());
            continue;
        }
        let mut values: Vec<Vec<u8>> = entry.values(canonical).to_vec();
        for modification in touching {
            let given = &modification.modification.vals;
            match modification.operation {
                LdapModifyType::Replace => values = given.clone(),
                LdapModifyType::Add => values.extend(given.iter().cloned()),
                LdapModifyType::Delete => values.retain(|value| {
                    !given.iter().any(|removed| {
                        std::str::from_utf8(removed).is_ok_and(|text| same_text(value, text))
                    })
                }),
                LdapModifyType::Increment => {}
            }
        }
        if values.iter().any(|value| same_text(value, &ava.value)) {
            avas.push(ava.clone());
            continue;
        }
        let Some(first) = values.first() else {
            return Err(Error::invalid_input(format!(
                "'{canonical}' names the entry '{}'; it cannot be removed",
                entry.dn
            ))
            .attribute(canonical));
        };
        let value = String::from_utf8(first.clone()).map_err(|_| {
            Error::invalid_input(format!(
                "a new '{canonical}' that names an entry must be text"
            ))
            .attribute(canonical)
        })?;
        renamed = true;
        avas.push(Ava {
            attribute: ava.attribute.clone(),
            value,
        });
    }
    Ok(renamed.then_some(Rdn { avas }))
}

/// Whether a stored value is the text `text`, compared without regard to case as the
/// usual naming attributes (uid, cn) match.
fn same_text(value: &[u8], text: &str) -> bool {
    std::str::from_utf8(value).is_ok_and(|value| value.to_lowercase() == text.to_lowercase())
}

fn rename_user(context: &Context, rename: &RenameChange) -> Result<Object, Error> {
    if context.config.anchor == Anchor::Dn {
        return Err(Error::unsupported(
            "renaming would change the anchor (anchor = \"dn\"); use anchor = \"entryUUID\"",
        ));
    }
    let entry = target(context, &rename.target)?;
    let wanted = Dn::parse(&rename.new_name).map_err(|why| {
        Error::invalid_input(format!(
            "the new name '{}' is not a DN: {why}",
            rename.new_name
        ))
    })?;
    let current = parse_dn(&entry.dn)?;
    let (new_rdn, new_parent) = match wanted.rdns.len() {
        0 => return Err(Error::invalid_input("the new name is empty")),
        1 => (wanted.rdns[0].clone(), current.parent()),
        _ => (wanted.rdns[0].clone(), wanted.parent()),
    };
    let new_dn = new_parent.child(new_rdn.clone());
    if !new_dn.is_within(&context.config.base_dn) {
        return Err(Error::invalid_input(format!(
            "'{new_dn}' is not under the base DN '{}'",
            context.config.base_dn
        )));
    }
    let request = LdapModifyDNRequest {
        dn: entry.dn.clone(),
        newrdn: new_rdn.to_string(),
        deleteoldrdn: true,
        new_superior: (!new_parent.matches(&current.parent())).then(|| new_parent.to_string()),
    };
    context.directory.write(
        &format!("renaming '{}' to '{new_dn}'", entry.dn),
        |client| client.modify_dn(request.clone()),
    )?;
    read_back(context, &rename.target.anchor)
}

fn delete_user(context: &Context, target_ref: &ObjectRef) -> Result<(), Error> {
    let entry = target(context, target_ref)?;
    context
        .directory
        .write(&format!("deleting '{}'", entry.dn), |client| {
            client.delete(entry.dn.clone())
        })
}
