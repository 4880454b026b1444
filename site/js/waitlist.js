// The signed-in patient's waitlist (#/waitlist): join it for a service when no free time
// suits (the booking page links here with the service, location and practitioner chosen:
// #/waitlist?service=3&location=1), see each open entry in words, change what it waits
// for, leave it. The times offered to an entry stay in My bookings (offer.js).
import { api } from "./api.js";
import { announce, choices, date, field, form, h, panelToggle, when } from "./dom.js";
import { needSignIn } from "./account.js";

const DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

// A refusal of the waitlist's rules in the patient's words, by its code (never its wording).
const REFUSED = {
  already_on_waitlist: "You are already on the waitlist for this service. You can change what you wait for in the list below.",
  entry_ended: "This waitlist entry has already ended: it was booked, it expired, or the clinic removed it.",
  patient_inactive: "Your record with the clinic is not active. Please call us.",
};
const refusal = (error) => {
  if (REFUSED[error.code]) error.message = REFUSED[error.code];
  return error;
};

const named = (list, id) => list.find((item) => item.id === Number(id));
const orList = (words) => (words.length > 1 ? `${words.slice(0, -1).join(", ")} or ${words.at(-1)}` : words[0]);
const hhmm = (value) => value?.slice(0, 5) || "";

// What the API's wish holds, from the form: empty times and dates are none; a list of
// choices the form did not show (one practitioner or location only) is not sent.
function wishOf(data) {
  const wish = {
    weekdays: data.weekdays.map(Number),
    earliest_time: data.earliest_time || null,
    latest_time: data.latest_time || null,
    earliest_date: data.earliest_date || null,
    latest_date: data.latest_date || null,
  };
  for (const name of ["practitioners", "locations"]) {
    if (name in data) wish[name] = data[name].map(Number);
  }
  if ("sooner_than" in data) wish.sooner_than = data.sooner_than ? Number(data.sooner_than) : null;
  return wish;
}

// The wishes the patient may set for `service` (the urgent flag and the note are the
// desk's), filled in from `wish`; `bookings` are the patient's upcoming ones of the service.
function wishForm(ctx, { service, wish, bookings, prefix, submitLabel, onSubmit }) {
  const offering = ctx.practitioners.filter((p) => p.services.includes(service));
  const places = ctx.locations.filter((l) => offering.some((p) => p.locations.includes(l.id)));
  const element = form(
    { className: "wish" },
    [
      offering.length > 1
        ? choices("Practitioners (none ticked: anyone)", "practitioners", offering.map((p) => [p.id, p.name]), "checkbox", prefix)
        : null,
      places.length > 1
        ? choices("Locations (none ticked: any)", "locations", places.map((l) => [l.id, l.name]), "checkbox", prefix)
        : null,
      choices("Days (none ticked: any day)", "weekdays", DAYS.map((day, n) => [n, day]), "checkbox", prefix),
      h("fieldset", {}, h("legend", {}, "Time of day (empty: any time)"),
        field("Starting no earlier than", { type: "time", name: "earliest_time", value: hhmm(wish.earliest_time) }),
        field("Finished by", { type: "time", name: "latest_time", value: hhmm(wish.latest_time) })),
      field("Not before (optional)", { type: "date", name: "earliest_date", value: wish.earliest_date || "" }),
      field("Latest date", { type: "date", name: "latest_date", value: wish.latest_date || "", required: true },
        "We stop looking after this day."),
      bookings.length
        ? choices("Bring a booking forward?", "sooner_than", [
          ["", "No, any time that suits"],
          ...bookings.map((b) => [b.id, `Sooner than my booking on ${when(b.start)}`])], "radio", prefix)
        : null,
    ],
    submitLabel,
    (data) => onSubmit(wishOf(data)),
  );
  for (const name of ["practitioners", "locations", "weekdays"]) {
    for (const value of wish[name] || []) {
      const box = element.querySelector(`[name="${name}"][value="${value}"]`);
      if (box) box.checked = true;
    }
  }
  const sooner = element.querySelector(`[name="sooner_than"][value="${wish.sooner_than ?? ""}"]`)
    || element.querySelector('[name="sooner_than"]');
  if (sooner) sooner.checked = true;
  return element;
}

// An entry's wishes in words.
function wishSummary(ctx, entry, bookings) {
  const names = (list, ids, other) => ids.map((id) => named(list, id)?.name || other);
  const [from, to] = [hhmm(entry.earliest_time), hhmm(entry.latest_time)];
  const hours = [from && `starting at ${from} or later`, to && `finished by ${to}`].filter(Boolean).join(", ");
  const booking = bookings.find((b) => b.id === entry.sooner_than);
  return h("dl", { className: "summary" },
    h("dt", {}, "With"),
    h("dd", {}, entry.practitioners.length ? orList(names(ctx.practitioners, entry.practitioners, "another practitioner")) : "Any practitioner"),
    h("dt", {}, "Where"),
    h("dd", {}, entry.locations.length ? orList(names(ctx.locations, entry.locations, "another location")) : "Any location"),
    h("dt", {}, "Days"), h("dd", {}, entry.weekdays.length ? orList(entry.weekdays.map((n) => `${DAYS[n]}s`)) : "Any day"),
    h("dt", {}, "Times"), h("dd", {}, hours ? hours[0].toUpperCase() + hours.slice(1) : "Any time of day"),
    h("dt", {}, "Until"), h("dd", {}, entry.earliest_date
      ? `From ${date(entry.earliest_date)} to ${date(entry.latest_date)}`
      : date(entry.latest_date)),
    entry.sooner_than
      ? [h("dt", {}, "Sooner than"), h("dd", {}, booking ? `My booking on ${when(booking.start)}` : "My booking")]
      : null,
    h("dt", {}, "Waiting since"), h("dd", {}, date(entry.created_at)));
}

async function waitlistView(ctx) {
  const gate = needSignIn();
  if (gate) return gate;
  const today = new Date().toISOString().slice(0, 10);
  const notice = h("p", { role: "status", className: "notice", tabIndex: -1 });
  const joining = h("div");
  const list = h("ul", { className: "bookings" });
  let bookings = [];
  const ofService = (service) => bookings.filter((b) => b.service.id === service);

  const load = async (message) => {
    const [booked, waiting] = await Promise.all([
      api(`/appointments/?status=booked&from=${today}&page_size=100`),
      api("/waitlist/?page_size=100"),
    ]);
    bookings = booked.results;
    const open = waiting.results.filter((entry) => !entry.ended_at);
    list.replaceChildren(...(open.length ? open.map(item) : [h("li", {}, "You are not on the waitlist.")]));
    notice.textContent = message || "";
    if (message) notice.focus();
  };
  // An entry that ended meanwhile is said so, and the list shown as it is now; any other
  // refusal goes back to the form, next to the field the API names.
  const ended = async (error) => {
    if (error.code !== "entry_ended") throw refusal(error);
    await load(REFUSED.entry_ended);
  };

  const changePanel = (entry, name) => h("div", { className: "panel", role: "group", "aria-label": `Change what you wait for: ${name}` },
    wishForm(ctx, {
      service: entry.service, wish: entry, bookings: ofService(entry.service), prefix: `entry-${entry.id}-`,
      submitLabel: "Save the changes",
      onSubmit: async (wish) => {
        let changed;
        try {
          changed = await api(`/waitlist/${entry.id}/`, { method: "PATCH", body: wish });
        } catch (error) {
          return ended(error);
        }
        announce("Your waitlist entry is changed.");
        await load(`Changed: you wait for ${name} until ${date(changed.latest_date)}.`);
      },
    }));
  const leavePanel = (entry, name) => h("div", { className: "panel", role: "group", "aria-label": `Leave the waitlist for ${name}` },
    h("p", {}, "We will stop offering you times for this. You can join the waitlist again at any time."),
    form({ className: "leave" }, [], "Leave the waitlist", async () => {
      try {
        await api(`/waitlist/${entry.id}/`, { method: "DELETE" });
      } catch (error) {
        return ended(error);
      }
      announce("You have left the waitlist.");
      await load(`You have left the waitlist for ${name}.`);
    }));

  const item = (entry) => {
    const name = entry.service_name;
    const area = h("div");
    const toggle = (makePanel) => panelToggle(area, () => makePanel(entry, name));
    return h("li", { className: "booking", "data-entry": entry.id },
      h("h2", {}, name),
      wishSummary(ctx, entry, bookings),
      h("div", { className: "actions" },
        h("button", { type: "button", "aria-expanded": "false", onclick: toggle(changePanel) }, "Change"),
        h("button", { type: "button", "aria-expanded": "false", onclick: toggle(leavePanel) }, "Leave")),
      area);
  };

  await load();
  const service = ctx.query.service && named(ctx.services, ctx.query.service);
  if (service) {
    const { practitioner, location } = ctx.query;
    joining.append(h("section", { "aria-labelledby": "join-heading" },
      h("h2", { id: "join-heading" }, `Join the waitlist for ${service.name}`),
      h("p", {}, "When a time that suits you comes free, we offer it to you and hold it for you for a while: take it, and it is booked."),
      wishForm(ctx, {
        service: service.id,
        wish: { practitioners: practitioner ? [practitioner] : [], locations: location ? [location] : [] },
        bookings: ofService(service.id),
        prefix: "join-",
        submitLabel: "Join the waitlist",
        onSubmit: async (wish) => {
          let entry;
          try {
            entry = await api("/waitlist/", { method: "POST", body: { service: service.id, ...wish } });
          } catch (error) {
            throw refusal(error);
          }
          joining.replaceChildren();
          history.replaceState(null, "", "#/waitlist"); // joined: a reload shows the list only
          announce(`You are on the waitlist for ${service.name}.`);
          await load(`You are on the waitlist for ${service.name} until ${date(entry.latest_date)}. We will offer you a time that comes free.`);
        },
      })));
  }
  return h("div", {},
    h("h1", { tabIndex: -1 }, "My waitlist"),
    notice,
    joining,
    list,
    h("p", {}, "Times offered to you from the waitlist are in ", h("a", { href: "#/bookings" }, "My bookings"), "."));
}

export const waitlistViews = { waitlist: waitlistView };
