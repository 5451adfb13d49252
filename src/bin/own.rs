//! The customer's own view (`/my`) as an entry of its own: a customer's
//! user loads this page alone, not the partner's whole app (issue 23).

fn main() {
    console_error_panic_hook::set_once();
    csp_costs::run(csp_costs::own::start, csp_costs::own::show_problem);
}
