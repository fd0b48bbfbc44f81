//! `ferry check`: everything `serve` would do before serving, plus each connector's
//! test-connection, reported per app. Exits non-zero with messages naming the file,
//! line and app.

use std::path::Path;

use super::print_line;
use crate::config::LoadedConfig;
use crate::server::assemble;

pub async fn run(config_file: &Path) -> anyhow::Result<()> {
    let config = LoadedConfig::load(config_file)?;
    let ferry = assemble(&config).await?;
    let mut failures = 0;
    for refused in &ferry.catalog.refused {
        print_line(&format!("plugin refused: {refused}"));
        failures += 1;
    }
    let mut names: Vec<&String> = ferry.apps.keys().collect();
    names.sort();
    for name in names {
        let app = &ferry.apps[name];
        let pool = app.pool()?;
        let plugin = &pool.plugin().info;
        if let Err(e) = pool.test_connection().await {
            print_line(
                &config
                    .app_error(name, format!("test-connection failed: {e}"))
                    .to_string(),
            );
            failures += 1;
            continue;
        }
        // The mapping is built from the live schema without opening the app's cache:
        // `check` changes nothing on disk.
        let mappings = match pool.schema().await {
            Ok(schema) => app.users_mapping(&schema).and_then(|users| {
                let groups = app.groups_binding(&schema, &users)?;
                app.lookups(&users, groups.as_ref())?;
                Ok((users, groups))
            }),
            Err(e) => Err(anyhow::anyhow!("schema() failed: {e}")),
        };
        match mappings {
            Ok((users, groups)) => print_line(&format!(
                "app '{name}': ok — {} {}, SCIM Users ↔ '{}' ({} mapped attributes){}",
                plugin.name,
                plugin.version,
                users.object_type,
                users.entries.len(),
                groups.map_or(String::new(), |g| format!(
                    ", SCIM Groups ↔ '{}' (members in '{}')",
                    g.mapping.object_type, g.members
                ))
            )),
            Err(e) => {
                print_line(&config.app_error(name, format!("{e:#}")).to_string());
                failures += 1;
            }
        }
    }
    anyhow::ensure!(
        failures == 0,
        "{failures} problem(s) found in {}",
        config_file.display()
    );
    Ok(())
}
