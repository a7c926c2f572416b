//! Probes that look at the machine prodcheck runs on: `exec` (any command, Nagios exit
//! codes), `file` (fresh backups by glob) and `disk` (free space on a mount).

pub mod disk;
pub mod exec;
pub mod file;
