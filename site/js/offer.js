// A time offered from the waitlist: the page the offer's message links to (#/offer/{token},
// no sign-in: the signed token is the proof), and the offer panel "My bookings" shows a
// signed-in patient (by the offer's id). Take it books the time; Pass gives it to the next.
import { api, signedIn } from "./api.js";
import { announce, h, time, when } from "./dom.js";

// What an ended offer means to the patient, by the API's error code (never its wording).
export const ENDED = {
  offer_taken: ["This time is no longer available",
    "Sorry, the time has been taken. You stay on the waitlist: we will offer you the next time that suits."],
  offer_used: ["You have already taken this time",
    "This time is booked for you. You will find it in My bookings."],
  offer_expired: ["This offer has expired",
    "Sorry, the time was held for you only until the offer ended. You stay on the waitlist for the next one."],
  offer_declined: ["You passed on this time",
    "You told us this time does not suit you. You stay on the waitlist."],
};
// An offer's status as the link reads it, before anyone acts: the same words.
const ENDED_BY_STATUS = { withdrawn: "offer_taken", accepted: "offer_used", expired: "offer_expired", declined: "offer_declined" };

// The time offered, as a list of terms: what it is, with whom, where, when, until when.
export function offerSummary(offer) {
  return h("dl", { className: "summary" },
    h("dt", {}, "Appointment"), h("dd", {}, offer.service),
    h("dt", {}, "With"), h("dd", {}, offer.practitioner),
    h("dt", {}, "Where"), h("dd", {}, offer.address ? `${offer.location}, ${offer.address}` : offer.location),
    h("dt", {}, "When"), h("dd", {}, `${when(offer.start)} to ${time(offer.end)}`),
    h("dt", {}, "Held for you until"), h("dd", {}, when(offer.expires_at)));
}

// Take it / Pass for one offer; `act(action)` posts it and returns the offer as it now is.
// `done(heading, message)` shows the outcome; a refusal is shown by its code.
export function offerActions(act, done) {
  const problem = h("p", { className: "error", role: "alert", tabIndex: -1 });
  const buttons = [];
  const run = (action) => async () => {
    buttons.forEach((b) => (b.disabled = true));
    problem.textContent = "";
    try {
      const offer = await act(action);
      if (action === "accept") {
        announce("Booked.");
        done("The time is yours", `Booked: ${offer.service} on ${when(offer.start)} with ${offer.practitioner} at ${offer.location}. We look forward to seeing you.`);
      } else {
        announce("You passed on this time.");
        done(...ENDED.offer_declined);
      }
    } catch (error) {
      if (ENDED[error.code]) {
        done(...ENDED[error.code]);
        return;
      }
      // Any other refusal (the booking rules, the network): the offer may still stand.
      problem.textContent = error.message;
      problem.focus();
      buttons.forEach((b) => (b.disabled = false));
    }
  };
  buttons.push(
    h("button", { type: "button", className: "primary", onclick: run("accept") }, "Take it"),
    h("button", { type: "button", onclick: run("decline") }, "Pass"));
  return h("div", {}, problem, h("div", { className: "actions" }, buttons));
}

const bookingsLink = () => signedIn()
  ? h("p", {}, h("a", { href: "#/bookings" }, "See my bookings"))
  : h("p", {}, h("a", { href: "#/sign-in" }, "Sign in to see your bookings"));

async function offerView({ arg }) {
  const token = arg || "";
  const path = `/waitlist/offers/${encodeURIComponent(token)}/`;
  const container = h("div", { className: "offer" });
  const show = (title, ...content) => {
    const heading = h("h1", { tabIndex: -1 }, title);
    container.replaceChildren(heading, ...content);
    if (container.isConnected) heading.focus();
  };
  const ended = (title, message) => show(title, h("p", { role: "status", className: "notice" }, message), bookingsLink());
  let offer;
  try {
    offer = await api(path, { auth: false });
  } catch (error) {
    if (error.status !== 404) throw error;
    show("This link does not work",
      h("p", { role: "alert" }, "The link is incomplete or no longer valid. Please use the link in the message exactly as we sent it, or call the clinic."));
    return container;
  }
  if (offer.status !== "offered") {
    ended(...ENDED[ENDED_BY_STATUS[offer.status]]);
    return container;
  }
  show("A time has come free for you",
    h("p", {}, "You are on our waitlist, and this time has come free. It is held for you until the time below; if it suits you, take it and it is booked."),
    offerSummary(offer),
    offerActions((action) => api(`${path}${action}/`, { method: "POST", auth: false }), ended));
  return container;
}

export const offerViews = { offer: offerView };
