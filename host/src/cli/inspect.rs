//! `ferry plugins inspect FILE.wasm`: what a connector is and what it asks for, without
//! any configuration.

use std::path::Path;

use super::print_line;
use crate::runtime::Runtime;
use crate::runtime::bindings::types::ParameterType;
use crate::runtime::engine::EngineSizing;
use crate::runtime::validate;

pub async fn run(file: &Path) -> anyhow::Result<()> {
    let scratch = std::env::temp_dir().join(format!("ferry-inspect-{}", std::process::id()));
    let runtime = Runtime::new(EngineSizing { total_instances: 4 }, scratch.clone())?;
    let loaded = runtime.load_plugin(file).await;
    let _ = std::fs::remove_dir_all(&scratch);
    let plugin = loaded?;
    let info = &plugin.info;
    print_line(&format!("file:        {}", plugin.path.display()));
    print_line(&format!("sha256:      {}", plugin.sha256));
    print_line(&format!("name:        {}", info.name));
    print_line(&format!("version:     {}", info.version));
    print_line(&format!("contract:    ferry:connector@{}", plugin.contract));
    print_line(&format!("description: {}", info.description));
    let f = &info.features;
    print_line(&format!(
        "supports:    delta-import={} groups={} passwords={} rename={}",
        f.delta_import, f.groups, f.passwords, f.rename
    ));
    print_line("parameters:");
    if info.parameters.is_empty() {
        print_line("  (none)");
    }
    for p in &info.parameters {
        let kind = match p.parameter_type {
            ParameterType::String => "string",
            ParameterType::Integer => "integer",
            ParameterType::Boolean => "boolean",
            ParameterType::StringList => "string-list",
            ParameterType::Structured => "structured",
        };
        let mut flags = vec![kind.to_string()];
        if p.required {
            flags.push("required".into());
        }
        if p.secret {
            flags.push("secret".into());
        }
        if let Some(d) = &p.default {
            flags.push(format!("default {d}"));
        }
        print_line(&format!(
            "  {} ({}): {}",
            p.name,
            flags.join(", "),
            p.description
        ));
    }
    let surface = validate::surface(&std::fs::read(file)?).map_err(anyhow::Error::msg)?;
    print_line("imports:");
    for i in &surface.imports {
        print_line(&format!("  {i}"));
    }
    Ok(())
}
