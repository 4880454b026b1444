// The signed-in patient's own pages: bookings (confirm, reschedule, cancel), home exercises,
// reminders, intake, record.
import { api, download } from "./api.js";
import { announce, choices, field, form, h, panelToggle, time, when } from "./dom.js";
import { needSignIn } from "./account.js";
import { timePicker } from "./book.js";
import { offerActions, offerSummary } from "./offer.js";

const RED_FLAGS = [
  ["severe_leg_pain", "Severe pain down the legs"],
  ["leg_weakness_episodes", "Episodes of leg weakness"],
  ["bladder_bowel_change", "Changes in bladder or bowel control"],
  ["saddle_numbness", "Numbness around the buttocks or groin (saddle area)"],
  ["fever", "Fever"],
  ["unexplained_weight_loss", "Weight loss you cannot explain"],
  ["recent_trauma", "A recent fall or accident"],
];

// The intake questionnaire. `onAnswered(answer)` runs once it is saved; when the answers
// call for urgent care the advice is shown first, as the API words it, with `onContinue`.
export function intakeForm(onAnswered, onContinue) {
  const advice = h("div", { className: "urgent", role: "alert", tabIndex: -1, hidden: true });
  const element = form(
    { className: "intake" },
    [
      field("What brings you to the clinic?", { tag: "textarea", name: "complaint", required: true, rows: 3 }),
      choices("Where do you feel it?", "symptom_locations", [
        ["lower_back", "Lower back"], ["buttock_left", "Left buttock"], ["buttock_right", "Right buttock"],
        ["hip_left", "Left hip"], ["hip_right", "Right hip"], ["leg_left", "Left leg"], ["leg_right", "Right leg"]]),
      choices("Do you have any of these?", "sciatica_symptoms", [
        ["pins_and_needles", "Pins and needles"], ["numbness_burning_tingling", "Numbness, burning or tingling"],
        ["sharp_pain_down_leg", "Sharp or stabbing pain down a leg"], ["leg_weakness", "Weakness in the legs"],
        ["constant_pain", "Constant pain"], ["trouble_sleeping", "Trouble sleeping from pain"]]),
      field("Pain today, from 0 (none) to 10 (worst imaginable)", { type: "number", name: "pain_score", min: 0, max: 10, required: true, inputMode: "numeric" }),
      choices("How long have you had it?", "duration", [
        ["acute", "Under 6 weeks"], ["subacute", "6 to 12 weeks"], ["chronic", "Over 12 weeks"]], "radio"),
      choices("How active are you?", "activity", [
        ["sedentary", "Mostly sitting"], ["new_runner", "New to running"], ["returning_runner", "Returning to running after a break"],
        ["seasoned_runner", "A seasoned runner"], ["other_sport", "Another sport or training"]], "radio"),
      choices("Have you noticed any of these? (We ask everyone.)", "red_flags", RED_FLAGS),
      field("What would you like to get back to?", { tag: "textarea", name: "goals", rows: 2 }),
    ],
    "Save my answers",
    async (data) => {
      const answer = await api("/patients/me/intake/", {
        method: "POST",
        body: { ...data, pain_score: data.pain_score === "" ? null : Number(data.pain_score) },
      });
      if (answer.urgent_advice) {
        element.hidden = true;
        advice.hidden = false;
        advice.replaceChildren(
          h("h3", {}, "Please read this now"),
          h("p", {}, answer.urgent_advice.message),
          onContinue ? h("button", { type: "button", onclick: onContinue }, "I understand, continue") : null,
        );
        advice.focus();
      } else {
        announce("Thank you, your answers are saved.");
      }
      onAnswered(answer);
    },
  );
  return h("div", {}, advice, element);
}

const page = (title, ...content) => h("div", {}, h("h1", { tabIndex: -1 }, title), ...content);

function cancelPanel(ctx, appointment, onDone) {
  const hours = ctx.clinic.cancellation_window_hours;
  const phone = ctx.clinic.phone;
  const box = h("div", { className: "panel", role: "group", "aria-label": "Cancel this appointment" });
  box.append(
    h("p", {}, `You can cancel or move an appointment online until ${hours} hours before it starts. ` +
      `Closer to the time, please call us${phone ? ` on ${phone}` : ""}: we may offer the time to someone waiting.`),
    form({ className: "cancel" }, [field("Reason (optional)", { name: "reason" })], "Cancel the appointment", async ({ reason }) => {
      await api(`/appointments/${appointment.id}/cancel/`, { method: "POST", body: reason ? { reason } : {} });
      announce("The appointment is cancelled.");
      onDone(`Cancelled: ${appointment.service.name}, ${when(appointment.start)}.`);
    }),
  );
  return box;
}

function reschedulePanel(ctx, appointment, onDone) {
  const box = h("div", { className: "panel", role: "group", "aria-label": "Move this appointment" });
  const problem = h("p", { className: "error", role: "alert" });
  const picker = timePicker(ctx, {
    service: appointment.service.id, location: appointment.location.id, practitioner: appointment.practitioner.id,
  }, async (slot) => {
    problem.textContent = "";
    try {
      await api(`/appointments/${appointment.id}/reschedule/`, { method: "POST", body: { start: slot.start, practitioner: slot.practitioner } });
    } catch (error) {
      problem.textContent = `${error.message} Your appointment has not changed.`;
      problem.focus?.();
      picker.reload();
      return;
    }
    announce("The appointment is moved.");
    onDone(`Moved: ${appointment.service.name} is now on ${when(slot.start)}.`);
  });
  box.append(problem, picker);
  return box;
}

async function bookingsView(ctx) {
  const gate = needSignIn();
  if (gate) return gate;
  const notice = h("p", { role: "status", className: "notice" });
  const offered = h("section", { className: "offers", "aria-labelledby": "offers-heading" });
  const list = h("ul", { className: "bookings" });
  const container = page("My bookings", notice, offered, list, h("p", {}, h("a", { href: "#/" }, "Book another appointment")));
  const today = new Date().toISOString().slice(0, 10);
  const load = async (message) => {
    const [{ results }, waiting] = await Promise.all([
      api(`/appointments/?status=booked&from=${today}&page_size=100`),
      api("/waitlist/?page_size=100"),
    ]);
    notice.textContent = message || "";
    const offers = waiting.results.flatMap((entry) => entry.offers);
    offered.replaceChildren(...(offers.length
      ? [h("h2", { id: "offers-heading" }, "Times offered to you"), h("ul", { className: "bookings" }, offers.map(offerItem))]
      : []));
    list.replaceChildren(...(results.length ? results.map((a) => item(a)) : [h("li", {}, "You have no upcoming appointments.")]));
    if (message) notice.focus?.();
  };
  // A time come free for the patient's waitlist entry: taken or passed here, by its id.
  const offerItem = (offer) => h("li", { className: "booking", "data-offer": offer.id },
    h("h3", {}, `${offer.service}, ${when(offer.start)}`),
    offerSummary(offer),
    offerActions(
      (action) => api(`/waitlist/offers/${offer.id}/${action}/`, { method: "POST" }),
      (title, message) => load(`${title}. ${message}`)));
  const item = (appointment) => {
    const area = h("div");
    const toggle = (makePanel) => panelToggle(area, () => makePanel(ctx, appointment, load));
    // Telling the clinic you will come spares you the reception's call the day before.
    const confirm = async () => {
      try {
        await api(`/appointments/${appointment.id}/confirm/`, { method: "POST" });
      } catch (error) {
        await load(error.message);
        return;
      }
      announce("Noted: you will come.");
      await load(`Thank you: we have noted that you will come on ${when(appointment.start)}.`);
    };
    const row = h("li", { className: "booking", "data-appointment": appointment.id },
      h("h2", {}, appointment.service.name),
      h("p", {}, `${when(appointment.start)} to ${time(appointment.end)}, with ${appointment.practitioner.name} at ${appointment.location.name}`),
      appointment.confirmed_at ? h("p", { className: "confirmed" }, "You have confirmed you will come.") : null,
      h("div", { className: "actions" },
        appointment.confirmed_at ? null : h("button", { type: "button", onclick: confirm }, "I will come"),
        h("button", { type: "button", "aria-expanded": "false", onclick: toggle(reschedulePanel) }, "Move"),
        h("button", { type: "button", "aria-expanded": "false", onclick: toggle(cancelPanel) }, "Cancel")),
      area);
    return row;
  };
  await load();
  notice.tabIndex = -1;
  return container;
}

async function preferencesView() {
  const gate = needSignIn();
  if (gate) return gate;
  const me = await api("/patients/me/");
  const saved = h("p", { role: "status" });
  const element = form({ className: "preferences" }, [
    h("fieldset", {}, h("legend", {}, "Send me confirmations and reminders"),
      field(`By email (${me.email})`, { type: "checkbox", name: "consent_email", checked: me.consent_email }),
      field(`By SMS${me.phone ? ` (${me.phone})` : ""}`, { type: "checkbox", name: "consent_sms", checked: me.consent_sms })),
  ], "Save", async (data) => {
    await api("/patients/me/", { method: "PATCH", body: { consent_email: data.consent_email, consent_sms: data.consent_sms } });
    saved.textContent = "Saved.";
  });
  return page("Reminders", h("p", {}, "Choose how we remind you of your appointments. You can change this at any time."), element, saved);
}

function intakeView() {
  return needSignIn() || page("About your back", intakeForm(() => {}));
}

function recordView() {
  const gate = needSignIn();
  if (gate) return gate;
  const problem = h("p", { className: "error", role: "alert" });
  const get = (format, name) => async () => {
    problem.textContent = "";
    try {
      await download(`/patients/me/export/?format=${format}`, name);
      announce("Your record is downloading.");
    } catch (error) {
      problem.textContent = error.message;
    }
  };
  return page("My record",
    h("p", {}, "Everything we hold about you: your details, appointments, answers, treatment notes, scores, the messages we sent and who looked at your record."),
    h("ul", { className: "downloads" },
      h("li", {}, h("button", { type: "button", onclick: get("pdf", "my-record.pdf") }, "Download as PDF (to read or print)")),
      h("li", {}, h("button", { type: "button", onclick: get("json", "my-record.json") }, "Download as JSON (for another clinic's software)"))),
    problem);
}

// The home programme: each exercise as prescribed, with a form to log what was done today
// (or to change today's log: one per exercise per day).
async function exercisesView() {
  const gate = needSignIn();
  if (gate) return gate;
  const [programme, logs] = await Promise.all([
    api("/patients/me/programme/"),
    api("/patients/me/exercise-logs/?page_size=100"),
  ]);
  const todays = new Map(
    logs.results.filter((log) => log.done_on === programme.today).map((log) => [log.exercise.id, log]),
  );
  if (!programme.exercises.length) {
    return page("My exercises", h("p", {}, "Your practitioner has not given you exercises to do at home yet."));
  }
  const week = programme.adherence.at(-1);
  const item = (exercise) => {
    const done = h("p", { className: "done", role: "status" });
    const showDone = (log) => {
      done.textContent = log
        ? `Done today: ${log.sets_done} sets of ${log.reps_done}${log.pain == null ? "" : `, pain ${log.pain}/10`}.`
        : "";
    };
    let log = todays.get(exercise.exercise.id);
    showDone(log);
    const number = (label, name, value, max) =>
      field(label, { type: "number", name, value, min: 0, max, required: true, inputMode: "numeric" });
    const logForm = form(
      { className: "log", "aria-label": `Log ${exercise.exercise.name}` },
      [
        number("Sets done", "sets_done", log ? log.sets_done : exercise.sets, 50),
        number("Reps (or seconds) per set", "reps_done", log ? log.reps_done : exercise.reps, 500),
        field("Pain during it, 0 to 10 (optional)", { type: "number", name: "pain", value: log?.pain ?? "", min: 0, max: 10, inputMode: "numeric" }),
        field("Note (optional)", { name: "note", value: log?.note || "", maxLength: 500 }),
      ],
      log ? "Change today's log" : "Log today",
      async (data) => {
        const body = {
          sets_done: Number(data.sets_done),
          reps_done: Number(data.reps_done),
          pain: data.pain === "" ? null : Number(data.pain),
          note: data.note,
        };
        log = log
          ? await api(`/patients/me/exercise-logs/${log.id}/`, { method: "PATCH", body })
          : await api("/patients/me/exercise-logs/", { method: "POST", body: { ...body, home_exercise: exercise.id } });
        showDone(log);
        logForm.querySelector("button[type=submit]").textContent = "Change today's log";
        announce(`${exercise.exercise.name}: logged.`);
      },
    );
    const load = exercise.load_kg == null ? "" : ` at ${exercise.load_kg} kg`;
    return h("li", { className: "exercise", "data-exercise": exercise.id },
      h("h2", {}, exercise.exercise.name),
      h("p", { className: "dose" }, `${exercise.sets} sets of ${exercise.reps}${load}, ${exercise.times_per_week} times a week`),
      h("p", { className: "instructions" }, exercise.exercise.instructions),
      exercise.notes ? h("p", { className: "notes" }, `From your practitioner: ${exercise.notes}`) : null,
      done,
      logForm);
  };
  return page("My exercises",
    h("p", {}, `Your home programme. Log what you did each day; you can change a day's log for ${programme.log_editable_days} days.`),
    week ? h("p", { className: "adherence" }, `This week: ${week.done} of ${week.prescribed} times done.`) : null,
    h("ul", { className: "exercises" }, programme.exercises.map(item)));
}

export const myViews = {
  bookings: bookingsView,
  exercises: exercisesView,
  preferences: preferencesView,
  intake: intakeView,
  record: recordView,
};
