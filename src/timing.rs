//! The Explorer's steps as User Timing measures (`csp-costs:pivot`, ...):
//! they show in the browser's performance panel, and the Explorer's bench
//! reads them to say which step a long task was.

/// Runs `step`, measured as `name` from its start to its end.
pub fn measured<T>(name: &str, step: impl FnOnce() -> T) -> T {
    let performance = web_sys::window().and_then(|w| w.performance());
    if let Some(p) = &performance {
        let _ = p.mark(name);
    }
    let out = step();
    if let Some(p) = &performance {
        let _ = p.measure_with_start_mark(name, name);
        p.clear_marks_with_mark_name(name);
    }
    out
}
