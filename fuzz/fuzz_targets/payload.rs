//! Any bytes as a webhook body: normalizing never panics, and an accepted event survives
//! the store's JSON round trip and renders on every platform.
#![no_main]
use herald::hub::{payload, Event};
use herald::render::Renderer;
use herald::route::Platform;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn renderer() -> &'static Renderer {
    static R: OnceLock<Renderer> = OnceLock::new();
    R.get_or_init(|| Renderer::load(None).expect("built-in templates"))
}

fuzz_target!(|data: &[u8]| {
    if let Ok(event) = payload::parse(data) {
        let stored = serde_json::to_string(&event).expect("events serialize");
        let back: Event = serde_json::from_str(&stored).expect("stored events read back");
        assert_eq!(back, event);
        for p in [Platform::Discord, Platform::Slack, Platform::Console] {
            renderer().render(&event, p).expect("built-in templates render every event");
        }
    }
});
