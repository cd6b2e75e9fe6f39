//! Sandbox conformance tests: every endpoint and every fault through real HTTP on
//! loopback (reqwest), bodies parsed with the crate's XML module. Each test starts its own
//! sandbox on its own free port.

#[path = "sandbox/common.rs"]
mod common;

#[path = "sandbox/admin.rs"]
mod admin;
#[path = "sandbox/auth.rs"]
mod auth;
#[path = "sandbox/faults.rs"]
mod faults;
#[path = "sandbox/loyalty.rs"]
mod loyalty;
#[path = "sandbox/notify.rs"]
mod notify;
#[path = "sandbox/profile.rs"]
mod profile;
#[path = "sandbox/summary.rs"]
mod summary;
