//! Any text as a subscription target, scope or channel: parsing never panics, and a target
//! that parses prints back to itself.
#![no_main]
use herald::hub::Scope;
use herald::route::{Channel, Target};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    if let Ok(t) = Target::parse(s) {
        assert_eq!(Target::parse(&t.to_string()).expect("printed targets parse"), t);
    }
    if let Ok(scope) = Scope::parse(s) {
        assert!(scope.lineage().all(|a| a.covers(&scope)));
        let _ = Scope::parse_subscribable(s);
    }
    let _ = Channel::parse(s);
});
