// Booking: choose a service, location, practitioner and a free time; hold it; sign in or
// register (and answer the intake, for a first visit); confirm; the confirmation.
import { api, ApiError, download, signedIn } from "./api.js";
import { announce, choices, date, form, h, time, when } from "./dom.js";
import { accountForms, resendVerification } from "./account.js";
import { intakeForm } from "./me.js";
import { go } from "./app.js";

const BOOKING = "clinic.booking";
const booking = {
  get: () => JSON.parse(sessionStorage.getItem(BOOKING) || "null"),
  set: (value) => sessionStorage.setItem(BOOKING, JSON.stringify(value)),
  clear: () => sessionStorage.removeItem(BOOKING),
};
const DAYS_SHOWN = 7;

const named = (list, id) => list.find((item) => item.id === Number(id));
const addDays = (day, n) => new Date(Date.parse(`${day}T00:00:00Z`) + n * 864e5).toISOString().slice(0, 10);
const today = (timeZone) => new Intl.DateTimeFormat("en-CA", { timeZone }).format(new Date());
const key = () => `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
let pickers = 0;

// Free times for a week at a time, as a list of days, then the times of the chosen day.
// Used to book and to reschedule; `onPick(slot)` gets the slot the patient chose.
export function timePicker(ctx, { service, location, practitioner }, onPick) {
  const zone = named(ctx.locations, location)?.time_zone || ctx.clinic.time_zone;
  let from = today(zone);
  const ids = { week: `times-${++pickers}`, day: `day-${pickers}` };
  const box = h("section", { className: "times", "aria-labelledby": ids.week });
  // One pick at a time: a second press while the first is on its way would hold twice.
  const pick = async (slot) => {
    const buttons = [...box.querySelectorAll(".slot")];
    buttons.forEach((b) => (b.disabled = true));
    try {
      await onPick(slot);
    } finally {
      buttons.forEach((b) => (b.disabled = false));
    }
  };

  async function load() {
    const to = addDays(from, DAYS_SHOWN - 1);
    const query = new URLSearchParams({ service, from, to, location });
    if (practitioner) query.set("practitioner", practitioner);
    box.replaceChildren(h("p", { className: "loading" }, "Looking for free times…"));
    const { slots } = await api(`/availability/?${query}`, { auth: false });
    // "Anyone": one button per start time, with whoever is free then.
    const byDay = new Map();
    for (const slot of slots) {
      const day = slot.start.slice(0, 10);
      if (!byDay.has(day)) byDay.set(day, new Map());
      if (!byDay.get(day).has(slot.start)) byDay.get(day).set(slot.start, slot);
    }
    const dayList = h("ul", { className: "days" });
    const timeList = h("div", { className: "day-times" });
    const showDay = (day, button) => {
      dayList.querySelectorAll("button").forEach((b) => b.setAttribute("aria-pressed", String(b === button)));
      timeList.replaceChildren(
        h("h3", { id: ids.day }, date(day)),
        h("ul", { className: "slots", "aria-labelledby": ids.day },
          [...byDay.get(day).values()].map((slot) => {
            const who = named(ctx.practitioners, slot.practitioner)?.name || "";
            return h("li", {}, h("button", { type: "button", className: "slot", onclick: () => pick(slot) },
              time(slot.start), h("span", { className: "who" }, ` with ${who}`)));
          })),
      );
    };
    for (const day of byDay.keys()) {
      const button = h("button", { type: "button", "aria-pressed": "false" },
        date(day), h("span", { className: "count" }, ` ${byDay.get(day).size} free`));
      button.addEventListener("click", () => showDay(day, button));
      dayList.append(h("li", {}, button));
    }
    const earlier = from > today(zone);
    box.replaceChildren(
      h("h2", { id: ids.week, tabIndex: -1 }, `Free times, ${date(from)} to ${date(to)}`),
      byDay.size ? dayList : h("p", {}, "No free times in these days. Try the next week, another practitioner or location."),
      timeList,
      h("div", { className: "week-nav" },
        earlier ? h("button", { type: "button", onclick: () => move(-DAYS_SHOWN) }, "Earlier days") : null,
        h("button", { type: "button", onclick: () => move(DAYS_SHOWN) }, "Later days")),
    );
    announce(byDay.size ? `Free times found on ${byDay.size} days.` : "No free times in these days.");
    dayList.querySelector("button")?.click();
  }
  const reload = () => load().catch((error) => box.replaceChildren(h("p", { role: "alert" }, error.message)));
  function move(days) {
    from = addDays(from, days);
    reload().then(() => box.querySelector("h2")?.focus());
  }
  box.reload = reload;
  reload();
  return box;
}

async function hold(choice, slot) {
  const previous = booking.get();
  if (previous?.hold) await api(`/holds/${previous.hold.id}/`, { method: "DELETE" }).catch(() => {});
  const wanted = { service: choice.service, practitioner: slot.practitioner, location: slot.location, start: slot.start };
  let held = null;
  try {
    held = await api("/holds/", { method: "POST", body: wanted });
  } catch (error) {
    // Without a hold endpoint the site books the time directly at the end.
    if (error.status !== 404) throw error;
  }
  booking.set({ ...wanted, end: slot.end, hold: held, key: key() });
  go(`#/hold/${held ? held.id : "direct"}`);
}

// When none of the times shown suits, or there are none: the waitlist for the service
// chosen, with the location and practitioner as its first wishes (sign-in comes first).
function waitlistLink({ service, location, practitioner }) {
  const query = new URLSearchParams({ service, location });
  if (practitioner) query.set("practitioner", practitioner);
  return h("section", { "aria-labelledby": "waitlist-heading" },
    h("h2", { id: "waitlist-heading" }, "No time that suits you?"),
    h("p", {}, "Join the waitlist: tell us the days and times you could come, and when a time like that comes free we offer it to you."),
    h("p", {}, h("a", { href: `#/waitlist?${query}` }, "Join the waitlist")));
}

function chooseView(ctx) {
  const rules = ctx.clinic;
  const assessments = ctx.services.filter((s) => s.is_assessment);
  const servicesFor = (visitor) =>
    visitor === "new" && rules.new_patients_start_with_assessment && assessments.length ? assessments : ctx.services;
  const results = h("div", { className: "results" });
  const serviceBox = h("div");
  const practitionerBox = h("div");

  const renderServices = (visitor) => {
    const list = servicesFor(visitor);
    serviceBox.replaceChildren(
      choices("Service", "service", list.map((s) => [s.id, `${s.name} · ${s.duration_minutes} min · $${s.price}`]), "radio"),
      visitor === "new" && list === assessments
        ? h("p", { className: "note" }, "New patients start with an initial assessment: it tells you and your practitioner what will help.")
        : null,
    );
    if (list.length === 1) serviceBox.querySelector("input").checked = true;
  };
  const renderPractitioners = (data) => {
    const who = ctx.practitioners.filter(
      (p) => (!data.service || p.services.includes(Number(data.service))) && (!data.location || p.locations.includes(Number(data.location))),
    );
    const previous = data.practitioner;
    practitionerBox.replaceChildren(
      choices("Practitioner", "practitioner", [["", "Anyone available"], ...who.map((p) => [p.id, `${p.name}, ${p.title}`])], "radio"),
    );
    const keep = practitionerBox.querySelector(`input[value="${previous || ""}"]`) || practitionerBox.querySelector("input");
    keep.checked = true;
  };

  const element = form(
    { className: "choose", "aria-label": "What you would like to book" },
    [
      choices("Have you been to the clinic before?", "visitor", [["new", "No, this is my first visit"], ["returning", "Yes, I have been before"]], "radio"),
      serviceBox,
      choices("Location", "location", ctx.locations.map((l) => [l.id, [l.name, l.address].filter(Boolean).join(", ")]), "radio"),
      practitionerBox,
    ],
    "See free times",
    async (data) => {
      const missing = ["visitor", "service", "location"].filter((name) => !data[name]);
      if (missing.length) {
        // In the shape of the API's refusals, so that it is shown the same way.
        throw new ApiError(400, {
          detail: "Please choose one of each.",
          fields: Object.fromEntries(missing.map((name) => [name, "Choose one."])),
        });
      }
      results.replaceChildren(timePicker(ctx, data, (slot) => hold(data, slot).catch(showHoldError)), waitlistLink(data));
    },
  );
  const showHoldError = (error) => {
    results.prepend(h("p", { role: "alert", className: "error" },
      error.code === "slot_unavailable" ? "Sorry, that time has just been taken. Please choose another." : error.message));
    results.querySelector(".times")?.reload();
  };
  element.addEventListener("change", (event) => {
    const data = Object.fromEntries(new FormData(element));
    if (event.target.name === "visitor") renderServices(data.visitor);
    if (event.target.name !== "practitioner") renderPractitioners(Object.fromEntries(new FormData(element)));
    results.replaceChildren();
  });
  if (ctx.locations.length === 1) element.querySelector('input[name="location"]').checked = true;
  renderServices(null);
  renderPractitioners({});
  return h("div", {}, h("h1", { tabIndex: -1 }, "Book an appointment"), element, results);
}

function summary(ctx, chosen) {
  const service = named(ctx.services, chosen.service);
  return h("dl", { className: "summary" },
    h("dt", {}, "What"), h("dd", {}, service?.name || ""),
    h("dt", {}, "When"), h("dd", {}, `${when(chosen.start)} to ${time(chosen.end)}`),
    h("dt", {}, "With"), h("dd", {}, named(ctx.practitioners, chosen.practitioner)?.name || ""),
    h("dt", {}, "Where"), h("dd", {}, named(ctx.locations, chosen.location)?.name || ""));
}

const INTAKE_DONE = "clinic.intake-done";

async function holdView(ctx) {
  const chosen = booking.get();
  if (!chosen) {
    return h("div", {}, h("h1", { tabIndex: -1 }, "Nothing is held"), h("p", {}, h("a", { href: "#/" }, "Choose a time")));
  }
  const service = named(ctx.services, chosen.service);
  const page = h("div", {}, h("h1", { tabIndex: -1 }, "Your appointment"), summary(ctx, chosen));
  if (chosen.hold) {
    const expires = new Date(chosen.hold.expires_at);
    const clock = expires.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
    const held = h("p", { className: "held" }, `We are holding this time for you until ${clock}. Nobody else can book it until then.`);
    page.append(held);
    // When the hold ends while the page is open, say so at once rather than at Confirm.
    setTimeout(() => {
      if (!held.isConnected) return;
      held.setAttribute("role", "alert");
      held.textContent = "The time we held for you has been released. You can still try to confirm it, or choose another time.";
    }, Math.max(0, expires - Date.now()));
  }
  const next = h("div", { className: "next" });
  page.append(next, h("p", {}, h("a", { href: "#/", onclick: releaseHold }, "Choose another time")));
  const rerender = () => holdView(ctx).then((fresh) => page.replaceWith(fresh)).then(() => document.querySelector("main .next h2")?.focus());

  if (!signedIn()) {
    next.append(h("h2", { tabIndex: -1 }, "Sign in or register to confirm"), accountForms(rerender));
  } else if (service?.is_assessment && !sessionStorage.getItem(INTAKE_DONE)) {
    next.append(
      h("h2", { tabIndex: -1 }, "Before your first visit"),
      h("p", {}, "These questions help your practitioner prepare. They take about two minutes."),
      intakeForm((answer) => {
        sessionStorage.setItem(INTAKE_DONE, "1");
        if (answer.urgent_advice) return; // the advice stays on screen; the patient goes on when ready
        rerender();
      }, rerender),
    );
  } else {
    next.append(h("h2", { tabIndex: -1 }, "Confirm"), confirmForm(ctx, chosen));
  }
  return page;
}

function releaseHold() {
  const chosen = booking.get();
  if (chosen?.hold) api(`/holds/${chosen.hold.id}/`, { method: "DELETE" }).catch(() => {});
  booking.clear();
}

function confirmForm(ctx, chosen) {
  const body = chosen.hold
    ? { hold: chosen.hold.id, service: chosen.service, practitioner: chosen.practitioner, location: chosen.location, start: chosen.start }
    : { service: chosen.service, practitioner: chosen.practitioner, location: chosen.location, start: chosen.start };
  const element = form({ className: "confirm" }, [], "Confirm booking", async () => {
    try {
      const appointment = await api("/appointments/", { method: "POST", body, headers: { "Idempotency-Key": chosen.key } });
      booking.clear();
      sessionStorage.removeItem(INTAKE_DONE);
      go(`#/confirmed/${appointment.id}`);
    } catch (error) {
      element.nextElementSibling?.classList.contains("unverified") && element.nextElementSibling.remove();
      if (error.code === "email_unverified") {
        element.after(h("div", { className: "notice unverified" },
          h("p", {}, "Please confirm your email address first: follow the link we sent you, then press Confirm booking again."),
          h("button", { type: "button", onclick: resendVerification }, "Send the link again")));
      } else if (["hold_expired", "slot_unavailable"].includes(error.code)) {
        error.message = `${error.message} Please choose another time.`;
      }
      throw error;
    }
  });
  return element;
}

async function confirmedView(ctx) {
  const appointment = await api(`/appointments/${ctx.arg}/`);
  const problem = h("p", { className: "error", role: "alert" });
  const ics = async () => {
    problem.textContent = "";
    try {
      await download(`/appointments/${appointment.id}/ics/`, "appointment.ics");
      announce("The calendar file is downloading.");
    } catch (error) {
      problem.textContent = error.message;
    }
  };
  return h("div", { className: "confirmed" },
    h("h1", { tabIndex: -1 }, "You're booked"),
    h("p", { role: "status" }, `${appointment.service.name}, ${when(appointment.start)}.`),
    summary(ctx, {
      service: appointment.service.id, start: appointment.start, end: appointment.end,
      practitioner: appointment.practitioner.id, location: appointment.location.id,
    }),
    h("p", {}, h("button", { type: "button", className: "primary", onclick: ics }, "Add to my calendar (.ics)")),
    problem,
    h("p", {}, h("a", { href: "#/bookings" }, "See my bookings")));
}

export const bookingViews = { "": chooseView, hold: holdView, confirmed: confirmedView };
