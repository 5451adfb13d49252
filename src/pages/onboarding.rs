//! The onboarding wizard: six steps with visible progress. Its state is
//! kept by the proxy, so a reload resumes the step; the key value lives only
//! in this page's memory, shown once.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_query_map};
use model::api::{AppChoice, ErrorCode, KeyInfo, NewKey, OnboardingState, TrialRequest};
use model::onboarding::{Step, check_guid, check_key};

use crate::api::{self, ApiError};
use crate::app::SessionResource;
use crate::components::{CopyField, SyncBar};
use crate::i18n::t;

fn step_names() -> [&'static str; 6] {
    let t = t();
    [
        t.step_before,
        t.step_sign_in,
        t.step_register,
        t.step_add_key,
        t.step_billing,
        t.step_trial,
    ]
}

#[component]
pub fn Onboarding() -> impl IntoView {
    // Signed out, the wizard starts without asking the proxy (a refused
    // request is a console error); the app has read the session already.
    let session = expect_context::<crate::app::SessionResource>();
    let signed_out = matches!(
        session.get_untracked(),
        Some(Err(e)) if e.code() == Some(ErrorCode::NotSignedIn)
    );
    let state = LocalResource::new(move || async move {
        if signed_out {
            Err(ApiError::not_signed_in())
        } else {
            api::onboarding().await
        }
    });
    let query = use_query_map();
    view! {
        <h1>{t().connect_partner_center}</h1>
        <Transition fallback=|| view! { <p aria-busy="true">{t().loading}</p> }>
            {move || {
                let wants_sign_in = query.read().get("step").as_deref() == Some("sign-in");
                Suspend::new(async move {
                match state.await {
                    Err(e) if e.code() == Some(ErrorCode::NotSignedIn) => {
                        let step = if wants_sign_in { Step::SignIn } else { Step::BeforeYouBegin };
                        view! {
                            <Progress current=step />
                            {if wants_sign_in { view! { <SignIn signed_in=false /> }.into_any() } else { view! { <BeforeYouBegin message=None signed_in=false /> }.into_any() }}
                        }.into_any()
                    }
                    Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                    Ok(s) => {
                        let step = s.step;
                        view! {
                            <Progress current=step />
                            {match step {
                                Step::BeforeYouBegin => view! { <BeforeYouBegin message=(!s.session.can_manage).then(|| t().roles_needed_for(&s.session.roles)) signed_in=true /> }.into_any(),
                                Step::SignIn => view! { <SignIn signed_in=true /> }.into_any(),
                                Step::RegisterApp => view! { <RegisterApp state=s on_done=move || state.refetch() /> }.into_any(),
                                Step::AddKey => view! { <AddKey state=s on_done=move || state.refetch() /> }.into_any(),
                                Step::ReadBilling => view! { <ReadBilling state=s on_done=move || state.refetch() /> }.into_any(),
                                Step::StartTrial => view! { <StartTrial state=s on_done=move || state.refetch() /> }.into_any(),
                                Step::Done => view! { <Done /> }.into_any(),
                            }}
                        }.into_any()
                    }
                }
            })}}
        </Transition>
    }
}

/// The five steps, the current one marked for people and screen readers.
#[component]
fn Progress(current: Step) -> impl IntoView {
    view! {
        <ol class="wizard-progress" aria-label=t().onboarding_progress>
            {Step::ALL.iter().zip(step_names()).map(|(step, name)| {
                let state = if *step < current { "done" } else if *step == current { "current" } else { "todo" };
                view! {
                    <li class=state aria-current=(*step == current).then_some("step")>
                        <span class="number">{step.number()}</span>" "{name}
                        {(*step < current).then(|| view! { <span class="visually-hidden">{t().done_mark}</span> })}
                    </li>
                }
            }).collect_view()}
        </ol>
    }
}

/// A step's heading, focused when the step appears so keyboard and screen
/// reader users land on it.
#[component]
fn StepHeading(step: Step, children: Children) -> impl IntoView {
    let heading = NodeRef::<leptos::html::H2>::new();
    Effect::new(move |_| {
        if let Some(h) = heading.get() {
            // After the frame, once the step is attached to the document.
            request_animation_frame(move || {
                let _ = h.focus();
            });
        }
    });
    view! {
        <h2 tabindex="-1" node_ref=heading id=step.slug()>
            {(t().step_of)(step.number())}{children()}
        </h2>
    }
}

#[component]
fn BeforeYouBegin(message: Option<String>, signed_in: bool) -> impl IntoView {
    view! {
        <section class="step">
            <StepHeading step=Step::BeforeYouBegin>{t().step_before}</StepHeading>
            <p>{t().you_need}</p>
            <ul>
                <li>{t().need_user_before}<strong>{t().role_global_admin}</strong>{t().or}<strong>{t().role_admin_agent}</strong>{t().need_user_after}</li>
                <li>{t().need_minutes}</li>
            </ul>
            {message.map(|m| view! { <p class="error" role="alert">{m}</p> })}
            {(!signed_in).then(|| view! { <A href=crate::host::path("/onboarding?step=sign-in") attr:class="button">{t().begin}</A> })}
        </section>
    }
}

/// Step 2: the admin signs in with the directory access the app steps need
/// (asked only here, not of everyone who signs in).
#[component]
fn SignIn(signed_in: bool) -> impl IntoView {
    view! {
        <section class="step">
            <StepHeading step=Step::SignIn>{t().step_sign_in}</StepHeading>
            <p>{if signed_in { t().directory_access_why } else { t().sign_in_come_back }}</p>
            <a class="button" rel="external" href=api::directory_sign_in_url("/onboarding")>
                {if signed_in { t().allow_directory } else { t().sign_in_with_pc }}
            </a>
        </section>
    }
}

fn error_text(e: &ApiError) -> String {
    e.to_string()
}

#[component]
fn RegisterApp(
    state: OnboardingState,
    on_done: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let (error, set_error) = signal(None::<String>);
    let choose = Action::new_local(move |choice: &AppChoice| {
        let choice = choice.clone();
        async move {
            match api::choose_app(&choice).await {
                Ok(_) => on_done(),
                Err(e) => set_error.set(Some(error_text(&e))),
            }
        }
    });
    view! {
        <section class="step">
            <StepHeading step=Step::RegisterApp>{t().step_register}</StepHeading>
            {(!state.existing_apps.is_empty()).then(|| view! {
                <h3>{t().registered_before}</h3>
                <p>{t().reuse_hint}</p>
                <ul class="choices">
                    {state.existing_apps.iter().map(|a| {
                        let choice = AppChoice { mode: "reuse".into(), app_id: Some(a.app_id.clone()) };
                        view! {
                            <li>
                                <span translate="no">{a.name.clone()}" "<code>{a.app_id.clone()}</code></span>
                                <button type="button" on:click=move |_| { choose.dispatch(choice.clone()); }>{(t().reuse_app)(&a.name)}</button>
                            </li>
                        }
                    }).collect_view()}
                </ul>
            })}
            <button type="button" class="primary" disabled=move || choose.pending().get()
                on:click=move |_| { choose.dispatch(AppChoice { mode: "new".into(), app_id: None }); }>
                {t().register_new}
            </button>
            <p class="muted">{t().register_new_creates}</p>
            {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        </section>
    }
}

fn date_part(stamp: &str) -> String {
    stamp.get(..10).unwrap_or(stamp).to_string()
}

/// The app's keys. Changes are applied to `keys` in place rather than by
/// reloading the step, which would drop a new key's value shown once above.
#[component]
pub(super) fn KeyList(
    keys: RwSignal<Vec<KeyInfo>>,
    /// The key the sync signs in with: not revoked from here.
    #[prop(optional_no_strip)]
    in_use: Option<String>,
) -> impl IntoView {
    let in_use = StoredValue::new(in_use);
    let (error, set_error) = signal(None::<String>);
    // The key whose revocation waits for a second click: one click is easy
    // to make by mistake, and a revoked key cannot come back.
    let asked = RwSignal::new(None::<String>);
    let revoke = Action::new_local(move |key_id: &String| {
        let key_id = key_id.clone();
        async move {
            match api::revoke_key(&key_id).await {
                Ok(()) => keys.update(|ks| ks.retain(|k| k.key_id != key_id)),
                Err(e) => set_error.set(Some(error_text(&e))),
            }
        }
    });
    view! {
        <table class="data keys">
            <caption>{t().keys_caption}</caption>
            <thead><tr><th scope="col">{t().key}</th><th scope="col">{t().created}</th><th scope="col">{t().expires}</th><th scope="col"><span class="visually-hidden">{t().actions}</span></th></tr></thead>
            <tbody>
                {move || keys.get().into_iter().map(|k| {
                    let flag = if k.expired { Some(t().expired) } else if k.expiring_soon { Some(t().expires_soon) } else { None };
                    let id = k.key_id.clone();
                    let name = k.name.clone();
                    view! {
                        <tr class:expiring=flag.is_some()>
                            <td translate="no">{k.name.clone()}</td>
                            <td>{date_part(&k.created_at)}</td>
                            <td>{date_part(&k.expires_at)}{flag.map(|f| view! { <span class="flag">{format!(" ({f})")}</span> })}</td>
                            <td>{move || if in_use.with_value(|u| u.as_deref() == Some(id.as_str())) {
                                view! { <span class="in-use">{t().in_use}</span> }.into_any()
                            } else if asked.get().as_deref() == Some(id.as_str()) {
                                let id = id.clone();
                                view! {
                                    <span class="confirm" role="alert">{(t().revoke_confirm)(&name)}" "
                                        <button type="button" class="danger" on:click=move |_| { asked.set(None); revoke.dispatch(id.clone()); }>{t().revoke}</button>" "
                                        <button type="button" on:click=move |_| asked.set(None)>{t().revoke_confirm_keep}</button>
                                    </span>
                                }.into_any()
                            } else {
                                let id = id.clone();
                                view! { <button type="button" class="link" on:click=move |_| asked.set(Some(id.clone()))>{t().revoke}" "<span translate="no">{name.clone()}</span></button> }.into_any()
                            }}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
        {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
    }
}

#[component]
fn AddKey(
    state: OnboardingState,
    on_done: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let (years, set_years) = signal(2u32);
    let keys = RwSignal::new(state.keys.clone());
    let (created, set_created) = signal(None::<NewKey>);
    let (error, set_error) = signal(None::<String>);
    let create = Action::new_local(move |years: &u32| {
        let years = *years;
        async move {
            match api::add_key(years).await {
                Ok(key) => {
                    keys.update(|ks| ks.push(key.key.clone()));
                    set_created.set(Some(key));
                }
                Err(e) => set_error.set(Some(error_text(&e))),
            }
        }
    });
    let go_on = Action::new_local(move |_: &()| async move {
        match api::continue_to_trial().await {
            Ok(()) => on_done(),
            Err(e) => set_error.set(Some(error_text(&e))),
        }
    });
    let app = state.app.clone();
    view! {
        <section class="step">
            <StepHeading step=Step::AddKey>{t().step_add_key}</StepHeading>
            {app.map(|a| view! { <CopyField label=t().app_id value=a.app_id id="app-id" /> })}
            <p>{t().commerce_id_notice}</p>
            <fieldset>
                <legend>{t().key_lasts}</legend>
                <label><input type="radio" name="years" value="1" prop:checked=move || years.get() == 1 on:change=move |_| set_years.set(1) />" "{t().one_year}</label>
                <label><input type="radio" name="years" value="2" prop:checked=move || years.get() == 2 on:change=move |_| set_years.set(2) />" "{t().two_years}</label>
            </fieldset>
            <button type="button" class="primary" disabled=move || create.pending().get() on:click=move |_| { create.dispatch(years.get()); }>{t().create_key}</button>
            {move || created.get().map(|k| view! {
                <div class="key-once" role="region" aria-label=t().new_key>
                    <p class="warning"><strong>{t().copy_key_now}</strong>
                        {t().key_like_password}</p>
                    <CopyField label=t().key_value value=k.value.clone() id="key-value" />
                    <p>{(t().expires_on)(&date_part(&k.key.expires_at))}</p>
                </div>
            })}
            {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            <p>{move || if keys.with(Vec::is_empty) { t().continue_needs_key } else { t().saved_continue }}</p>
            <button type="button" disabled=move || keys.with(Vec::is_empty) on:click=move |_| { go_on.dispatch(()); }>{t().continue_on}</button>
            // Below the way on, away from "Copy" and "Continue".
            {move || (!keys.with(Vec::is_empty)).then(|| view! { <KeyList keys /> })}
        </section>
    }
}

/// Step 5: the permission, the service principal and the consent, each
/// shown as done or not yet, then the check with the app's own key.
#[component]
fn ReadBilling(
    state: OnboardingState,
    on_done: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let billing = RwSignal::new(state.billing.clone().unwrap_or_default());
    let (error, set_error) = signal(None::<String>);
    let (asks_key, set_asks_key) = signal(false);
    // The key value stays in this signal: never in storage or the URL.
    let (key, set_key) = signal(String::new());
    let grant = Action::new_local(move |_: &()| async move {
        set_error.set(None);
        match api::grant_billing().await {
            Ok(b) => billing.set(b),
            Err(e) => {
                set_error.set(Some(error_text(&e)));
                // What could be done was done: show it beside the refusal.
                if let Ok(Some(b)) = api::onboarding().await.map(|s| s.billing) {
                    billing.set(b);
                }
            }
        }
    });
    let verify = Action::new_local(move |key: &Option<String>| {
        let key = key.clone();
        async move {
            set_error.set(None);
            match api::verify_billing(key).await {
                Ok(_) => on_done(),
                Err(e) => {
                    if e.code() == Some(ErrorCode::KeyNeeded) {
                        set_asks_key.set(true);
                    }
                    set_error.set(Some(error_text(&e)));
                }
            }
        }
    });
    let row = move |label: &'static str, done: Signal<bool>| {
        view! {
            <li class=move || if done.get() { "done" } else { "todo" }>
                <span aria-hidden="true">{move || if done.get() { "✓ " } else { "○ " }}</span>
                {label}
                <span class="visually-hidden">{move || format!(" ({})", if done.get() { t().check_done } else { t().check_todo })}</span>
            </li>
        }
    };
    let consent_url = move || billing.get().consent_url;
    view! {
        <section class="step">
            <StepHeading step=Step::ReadBilling>{t().step_billing}</StepHeading>
            <p>{t().billing_why}</p>
            <ul class="checklist" aria-live="polite">
                {row(t().billing_declared, Signal::derive(move || billing.get().declared))}
                {row(t().billing_principal, Signal::derive(move || billing.get().service_principal))}
                {row(t().billing_consented, Signal::derive(move || billing.get().consented))}
                {row(t().billing_verified, Signal::derive(move || billing.get().verified))}
            </ul>
            <button type="button" class="primary" disabled=move || grant.pending().get()
                on:click=move |_| { grant.dispatch(()); }>{t().grant_billing}</button>
            <p>{t().consent_link_intro}<a href=consent_url rel="external" id="consent-link">{t().consent_link}</a>{t().consent_link_after}</p>
            {move || asks_key.get().then(|| view! {
                <div class="field">
                    <label for="billing-key">{t().key_value}</label>
                    <input id="billing-key" type="password" autocomplete="off" spellcheck="false" class="mono"
                        prop:value=move || key.get() on:input=move |ev| set_key.set(event_target_value(&ev)) />
                    <p class="hint">{t().billing_key_hint}</p>
                </div>
            })}
            <button type="button" disabled=move || verify.pending().get()
                on:click=move |_| {
                    let typed = key.get();
                    verify.dispatch((!typed.trim().is_empty()).then_some(typed));
                }>{t().check_billing}</button>
            {move || error.get().map(|e| view! { <p class="error" role="alert" id="billing-error">{e}</p> })}
        </section>
    }
}

#[component]
fn StartTrial(
    state: OnboardingState,
    on_done: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let session = expect_context::<SessionResource>();
    let (app_id, set_app_id) = signal(
        state
            .app
            .as_ref()
            .map(|a| a.app_id.clone())
            .unwrap_or_default(),
    );
    // The key value stays in this signal: never in storage or the URL.
    let (key, set_key) = signal(String::new());
    let (field_errors, set_field_errors) = signal((None::<String>, None::<String>));
    let (error, set_error) = signal(None::<String>);
    let start = Action::new_local(move |req: &TrialRequest| {
        let req = req.clone();
        async move {
            match api::start_trial(&req).await {
                Ok(_) => {
                    session.refetch();
                    on_done();
                }
                Err(e) => set_error.set(Some(error_text(&e))),
            }
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        set_error.set(None);
        let checks = (
            check_guid(t(), t().app_id, &app_id.get()).err(),
            check_key(t(), &key.get()).err(),
        );
        let ok = checks.0.is_none() && checks.1.is_none();
        set_field_errors.set(checks);
        if ok {
            start.dispatch(TrialRequest {
                app_id: app_id.get(),
                key: key.get(),
            });
        }
    };
    let portal = state.app_management_url.clone();
    view! {
        <section class="step">
            <StepHeading step=Step::StartTrial>{t().start_free_trial}</StepHeading>
            <p>{t().one_step_left}<a href=portal target="_blank" rel="noopener">{t().app_management}</a>
               {t().choose}<em>{t().register_existing_app}</em>{t().pick_app_then}</p>
            <p>{t().trial_lasts}</p>
            <form on:submit=submit novalidate>
                <Field id="trial-app" label=t().app_id value=app_id set=set_app_id error=Signal::derive(move || field_errors.get().0) kind="text" />
                <Field id="trial-key" label=t().key_value value=key set=set_key error=Signal::derive(move || field_errors.get().1) kind="password" />
                <button type="submit" class="primary" disabled=move || start.pending().get()>
                    {move || if start.pending().get() { t().checking_with_pc } else { t().step_trial }}
                </button>
            </form>
            {move || error.get().map(|e| view! { <p class="error" role="alert" id="trial-error">{e}</p> })}
        </section>
    }
}

/// A labelled input whose error is tied to it and announced.
#[component]
fn Field(
    id: &'static str,
    label: &'static str,
    value: ReadSignal<String>,
    set: WriteSignal<String>,
    error: Signal<Option<String>>,
    kind: &'static str,
) -> impl IntoView {
    let error_id = format!("{id}-error");
    let described = error_id.clone();
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <input id=id type=kind autocomplete="off" spellcheck="false" class="mono"
                prop:value=move || value.get()
                on:input=move |ev| set.set(event_target_value(&ev))
                aria-invalid=move || error.get().is_some().then_some("true")
                aria-describedby=move || error.get().is_some().then(|| described.clone()) />
            {move || error.get().map(|e| view! { <p class="error" role="alert" id=error_id.clone()>{e}</p> })}
        </div>
    }
}

#[component]
fn Done() -> impl IntoView {
    let navigate = use_navigate();
    let session = expect_context::<SessionResource>();
    view! {
        <section class="step">
            <h2 tabindex="-1">{t().you_are_connected}</h2>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    session.await.ok().and_then(|s| s.trial).map(|t| view! {
                        <p>{if t.activated { crate::i18n::t().subscription_active.to_string() } else { (crate::i18n::t().trial_runs_until)(&date_part(&t.ends_at), t.days_left) }}</p>
                    })
                })}
            </Transition>
            <SyncBar on_customers=move || navigate("/", Default::default()) />
            <A href=crate::host::path("/") attr:class="button">{t().go_to_overview}</A>
        </section>
    }
}
