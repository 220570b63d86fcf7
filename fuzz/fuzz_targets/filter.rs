//! Any text as a filter: parsing never panics, a filter that parses prints to a text that
//! parses back to it, and evaluating it against a real event stays within its work.
#![no_main]
use herald::hub::payload;
use herald::route::{Bots, Filter, Look};
use libfuzzer_sys::fuzz_target;

const PUSH: &[u8] = include_bytes!("../../templates/samples/repo.content.json");

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    if let Ok(Some(f)) = Filter::parse(s) {
        let again = Filter::parse(&f.to_string()).expect("printed filters parse");
        assert_eq!(again.as_ref(), Some(&f));
        let event = payload::parse(PUSH).expect("the sample parses");
        let bots = Bots::default();
        let _ = f.eval(&event, &Look::settled(&bots));
        let _ = f.eval(&event, &Look::arrival(&bots));
    }
});
