//! Per-app sandbox limits and the reasons for their defaults. Every limit an operator can
//! set lives here, with the value Ferry uses when the configuration is silent.

use std::time::Duration;

use serde::Deserialize;

/// How often the engine's epoch advances. CPU time per call is counted in these ticks: a
/// finer tick costs more wake-ups of the ticker thread, a coarser one lets a runaway
/// guest overrun its budget by up to one tick.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// The limits of one app's connector instances, from `[apps.NAME.limits]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct Limits {
    /// Linear memory per instance, in MiB. Default 256: a Rust connector needs a few MiB,
    /// an interpreted one (componentize-py, componentize-js) tens of MiB; 256 leaves room
    /// for large import pages while 4 instances × several apps stay far below the host's
    /// memory.
    pub memory_mib: u32,
    /// Guest CPU time per call, in milliseconds (counted in epoch ticks while the guest
    /// runs, not while it waits for the target). Default 10 000: a page of a thousand
    /// objects takes milliseconds to convert, so only a runaway loop gets near it.
    pub cpu_ms_per_call: u32,
    /// Wall-clock time per call, in seconds, including waits on the target. Default 120:
    /// longer than any sane database or directory operation, short enough that a hung
    /// target frees the instance and the IdP gets a retryable 503.
    pub call_timeout_seconds: u32,
    /// Instances (sessions) per app. Default 4: writes are bound by the target, 2 cores
    /// serve them, and each instance holds one connection to the target.
    pub instances: u32,
    /// How long a request waits for a free instance before a 503, in seconds. Default 30.
    pub queue_timeout_seconds: u32,
    /// SCIM requests an app serves at once (reads from the cache included, waits for an
    /// instance included); more get 429 with `Retry-After` at once instead of piling up.
    /// Default 256: far above what an IdP sends (Entra ID: tens per second per app),
    /// low enough that a flood cannot exhaust the host's memory or file handles.
    pub max_requests_in_flight: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            memory_mib: 256,
            cpu_ms_per_call: 10_000,
            call_timeout_seconds: 120,
            instances: 4,
            queue_timeout_seconds: 30,
            max_requests_in_flight: 256,
        }
    }
}

impl Limits {
    /// The largest memory limit an app may set, in MiB: the pooling allocator reserves
    /// address space for this much per memory slot.
    pub const MAX_MEMORY_MIB: u32 = 4096;

    /// Checks the values are within what the engine can honour.
    pub fn validate(&self) -> Result<(), String> {
        if self.memory_mib == 0 || self.memory_mib > Self::MAX_MEMORY_MIB {
            return Err(format!(
                "memory-mib must be between 1 and {}, not {}",
                Self::MAX_MEMORY_MIB,
                self.memory_mib
            ));
        }
        for (name, value) in [
            ("cpu-ms-per-call", self.cpu_ms_per_call),
            ("call-timeout-seconds", self.call_timeout_seconds),
            ("instances", self.instances),
            ("queue-timeout-seconds", self.queue_timeout_seconds),
            ("max-requests-in-flight", self.max_requests_in_flight),
        ] {
            if value == 0 {
                return Err(format!("{name} must be at least 1"));
            }
        }
        Ok(())
    }

    /// Memory per instance in bytes.
    pub fn memory_bytes(&self) -> usize {
        self.memory_mib as usize * 1024 * 1024
    }

    /// The most the host copies out of an instance in one go (a call's result, or the
    /// arguments of one call the connector makes to the host), in MiB, whatever the
    /// memory limit: a page of identity objects is a few MiB, and each of an app's
    /// instances may hold this much on the host at once.
    pub const MAX_COPY_MIB: u32 = 128;

    /// The most bytes the host copies out of an instance in one go: its memory limit,
    /// and at most [`Self::MAX_COPY_MIB`]. A guest cannot hold more than its memory, but
    /// it can hand over one buffer many times over (the canonical ABI passes strings and
    /// lists by pointer), so without this a 16 MiB guest could make the host copy
    /// gigabytes. Counted in host bytes, so it bounds what the copy costs the host.
    pub fn copy_bytes(&self) -> usize {
        self.memory_bytes()
            .min(Self::MAX_COPY_MIB as usize * 1024 * 1024)
    }

    /// The CPU budget of one call in epoch ticks (at least one).
    pub fn cpu_ticks(&self) -> u64 {
        (u64::from(self.cpu_ms_per_call) / EPOCH_TICK.as_millis() as u64).max(1)
    }

    /// The wall-clock limit of one call.
    pub fn call_timeout(&self) -> Duration {
        Duration::from_secs(self.call_timeout_seconds.into())
    }

    /// How long to wait for a free instance.
    pub fn queue_timeout(&self) -> Duration {
        Duration::from_secs(self.queue_timeout_seconds.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_converted() {
        let l = Limits::default();
        l.validate().unwrap();
        assert_eq!(l.cpu_ticks(), 1000);
        assert_eq!(l.memory_bytes(), 256 << 20);
        assert_eq!(l.copy_bytes(), 128 << 20);
        let small = Limits {
            memory_mib: 16,
            ..Limits::default()
        };
        assert_eq!(small.copy_bytes(), 16 << 20);
    }

    #[test]
    fn refuses_zero_and_huge() {
        let l = Limits {
            memory_mib: 0,
            ..Limits::default()
        };
        assert!(l.validate().unwrap_err().contains("memory-mib"));
        let l = Limits {
            memory_mib: 5000,
            ..Limits::default()
        };
        assert!(l.validate().is_err());
        let l = Limits {
            instances: 0,
            ..Limits::default()
        };
        assert!(l.validate().unwrap_err().contains("instances"));
    }
}
