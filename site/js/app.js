// The booking site: a hash router over a handful of views, each a function that fills <main>.
import { api, all, signedIn, tokens } from "./api.js";
import { h } from "./dom.js";
import { bookingViews } from "./book.js";
import { accountViews, needSignIn } from "./account.js";
import { myViews } from "./me.js";
import { offerViews } from "./offer.js";
import { waitlistViews } from "./waitlist.js";

const main = document.getElementById("main");

// The clinic and its catalogue, fetched once per visit.
let catalogue;
function loadCatalogue() {
  catalogue ??= Promise.all([
    // GET /clinic/ names the clinic and its rules; where it is missing the site still
    // books, with the rules' usual values, and names the clinic by its locations.
    api("/clinic/", { auth: false }).catch((error) => {
      if (error.status !== 404) throw error;
      return { name: "", phone: "", cancellation_window_hours: 24, new_patients_start_with_assessment: true };
    }),
    all("/services/"),
    all("/locations/"),
    all("/practitioners/"),
  ]).then(([clinic, services, locations, practitioners]) => {
    clinic.name ||= "Book online";
    clinic.phone ||= locations[0]?.phone || "";
    return { clinic, services: services.filter((s) => s.bookable_online), locations, practitioners };
  });
  catalogue.catch(() => (catalogue = null));
  return catalogue;
}

const routes = { ...bookingViews, ...accountViews, ...myViews, ...offerViews, ...waitlistViews };

// "#/hold/3f2a?x=1" → view "hold", argument "3f2a", query {x: "1"}.
function parse() {
  const [path, query = ""] = location.hash.replace(/^#\/?/, "").split("?");
  const [name, arg] = path.split("/");
  return { name: name || "", arg, query: Object.fromEntries(new URLSearchParams(query)) };
}

export function go(hash) {
  if (location.hash === hash) render();
  else location.hash = hash;
}

// Each view renders into a fresh <main>; its heading then takes focus so that a screen
// reader announces the new page and keyboard focus starts at its top.
async function render() {
  const { name, arg, query } = parse();
  const view = routes[name] || routes[""];
  renderNav();
  main.replaceChildren(h("p", { className: "loading" }, "Loading…"));
  main.setAttribute("aria-busy", "true");
  try {
    const ctx = await loadCatalogue();
    document.getElementById("clinic-name").textContent = ctx.clinic.name;
    const content = await view({ ...ctx, arg, query });
    main.replaceChildren(content);
  } catch (error) {
    // A session that has ended (the API cleared the tokens on its 401) asks to sign in again.
    const gate = error.status === 401 && needSignIn();
    if (gate) main.replaceChildren(gate);
    else main.replaceChildren(
      h("h1", { tabIndex: -1 }, "Something went wrong"),
      h("p", { role: "alert" }, error.message),
      h("p", {}, h("a", { href: "#/" }, "Start again")),
    );
  }
  main.removeAttribute("aria-busy");
  const heading = main.querySelector("h1");
  document.title = `${heading ? heading.textContent : ""} · ${(await catalogue)?.clinic.name || "Booking"}`;
  heading?.focus();
}

function renderNav() {
  const links = signedIn()
    ? [["#/", "Book"], ["#/bookings", "My bookings"], ["#/waitlist", "My waitlist"], ["#/exercises", "My exercises"], ["#/preferences", "Reminders"], ["#/record", "My record"]]
    : [["#/", "Book"], ["#/sign-in", "Sign in"], ["#/register", "Register"]];
  const current = `#/${parse().name}`;
  document.getElementById("nav").replaceChildren(...links.map(([href, label]) =>
      h("li", {}, h("a", { href, "aria-current": href === current ? "page" : false }, label)),
    ).concat(
    signedIn()
      ? [h("li", {}, h("button", { type: "button", className: "link", onclick: signOut }, "Sign out"))]
      : [],
  ));
}

function signOut() {
  tokens.clear();
  go("#/");
}

// The skip link moves focus only: following "#main" would be a route change.
document.getElementById("skip").addEventListener("click", (event) => {
  event.preventDefault();
  main.focus();
});
window.addEventListener("hashchange", render);
window.addEventListener("clinic-auth", renderNav);
render();
