//! Any text as a user's template: it is refused, or it renders the largest event within the
//! output cap, on every platform.
#![no_main]
use herald::hub::Scope;
use herald::render::{custom, samples, Renderer};
use herald::route::Platform;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn renderer() -> &'static Renderer {
    static R: OnceLock<Renderer> = OnceLock::new();
    R.get_or_init(|| Renderer::load(None).expect("built-in templates"))
}

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else { return };
    if custom::validate(src).is_err() {
        return;
    }
    let scope = Scope::parse("discussion.comment").expect("static scope");
    let event = samples::largest(&scope);
    for p in [Platform::Discord, Platform::Slack, Platform::Console] {
        if let Ok(msg) = renderer().render_source(src, &scope, &event, p) {
            assert!(msg.headline.len() + msg.body.len() <= custom::OUTPUT_CAP);
        }
    }
});
