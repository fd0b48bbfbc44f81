//! `ferry plugins inspect FILE.wasm`: what a connector is and what it asks for, without
//! any configuration.

use std::path::Path;

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
    println!("file:        {}", plugin.path.display());
    println!("sha256:      {}", plugin.sha256);
    println!("name:        {}", info.name);
    println!("version:     {}", info.version);
    println!("contract:    ferry:connector@{}", plugin.contract);
    println!("description: {}", info.description);
    let f = &info.features;
    println!(
        "supports:    delta-import={} groups={} passwords={} rename={}",
        f.delta_import, f.groups, f.passwords, f.rename
    );
    println!("parameters:");
    if info.parameters.is_empty() {
        println!("  (none)");
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
        println!("  {} ({}): {}", p.name, flags.join(", "), p.description);
    }
    let surface = validate::surface(&std::fs::read(file)?).map_err(anyhow::Error::msg)?;
    println!("imports:");
    for i in &surface.imports {
        println!("  {i}");
    }
    Ok(())
}
