// Signing in, registering, and the links the clinic emails: verify an address, reset a password.
import { api, signIn, tokens } from "./api.js";
import { announce, field, form, h } from "./dom.js";
import { go } from "./app.js";

const RETURN_TO = "clinic.return-to";
const NOTICE = "clinic.notice";

function signInForm(onDone) {
  return form(
    { className: "sign-in", "aria-labelledby": "sign-in-heading" },
    [
      h("h3", { id: "sign-in-heading" }, "I have an account"),
      field("Email", { type: "email", name: "email", autocomplete: "email", required: true }),
      field("Password", { type: "password", name: "password", autocomplete: "current-password", required: true }),
      h("p", {}, h("a", { href: "#/forgot-password" }, "Forgotten your password?")),
    ],
    "Sign in",
    async ({ email, password }) => {
      await signIn(email, password);
      announce("You are signed in.");
      onDone();
    },
  );
}

function registerForm(onDone) {
  return form(
    { className: "register", "aria-labelledby": "register-heading" },
    [
      h("h3", { id: "register-heading" }, "I'm new here"),
      field("First name", { name: "first_name", autocomplete: "given-name", required: true }),
      field("Last name", { name: "last_name", autocomplete: "family-name", required: true }),
      field("Date of birth", { type: "date", name: "date_of_birth", autocomplete: "bday", required: true }),
      field("Email", { type: "email", name: "email", autocomplete: "email", required: true }, "We send a link to confirm it is yours."),
      field("Mobile number", { type: "tel", name: "phone", autocomplete: "tel", required: true }),
      field("Password", { type: "password", name: "password", autocomplete: "new-password", required: true }, "At least 12 characters; a phrase is easiest to remember."),
      field("Send me confirmations and reminders by email", { type: "checkbox", name: "consent_email" }),
      field("Send me reminders by SMS", { type: "checkbox", name: "consent_sms" }),
    ],
    "Register",
    async (data) => {
      await api("/auth/register/", { method: "POST", body: data, auth: false });
      await signIn(data.email, data.password);
      announce(`Registered. We have sent a link to ${data.email} to confirm your address.`);
      onDone();
    },
  );
}

// Both forms side by side (stacked on a phone), for the booking page and the sign-in page.
export function accountForms(onDone) {
  return h("div", { className: "account-forms" }, signInForm(onDone), registerForm(onDone));
}

export async function resendVerification(event) {
  const button = event.currentTarget;
  const said = h("p", { role: "status" });
  button.after(said);
  try {
    const me = await api("/patients/me/");
    await api("/auth/verify-email/resend/", { method: "POST", body: { email: me.email }, auth: false });
    said.textContent = `We have sent the link again to ${me.email}.`;
  } catch (error) {
    said.textContent = error.message;
  }
}

function afterSignIn() {
  const back = sessionStorage.getItem(RETURN_TO);
  sessionStorage.removeItem(RETURN_TO);
  go(back || "#/bookings");
}

// Pages that need a patient send a visitor here first, and back afterwards.
export function needSignIn() {
  if (tokens.get()) return null;
  sessionStorage.setItem(RETURN_TO, location.hash);
  return h("div", {}, h("h1", { tabIndex: -1 }, "Please sign in"), accountForms(afterSignIn));
}

const page = (title, ...content) => h("div", {}, h("h1", { tabIndex: -1 }, title), ...content);

function signInView() {
  const notice = sessionStorage.getItem(NOTICE);
  sessionStorage.removeItem(NOTICE);
  return page("Sign in", notice ? h("p", { role: "status", className: "notice" }, notice) : null, signInForm(afterSignIn), h("p", {}, "New here? ", h("a", { href: "#/register" }, "Register")));
}

function registerView() {
  return page("Register", registerForm(afterSignIn), h("p", {}, "Have an account? ", h("a", { href: "#/sign-in" }, "Sign in")));
}

async function verifyView({ query }) {
  try {
    await api("/auth/verify-email/", { method: "POST", body: { token: query.token || "" }, auth: false });
  } catch (error) {
    if (error.code !== "invalid_token") throw error;
    return page("This link has expired",
      h("p", { role: "alert" }, "The link is no longer valid. Sign in and ask for a new one when you confirm a booking."),
      h("p", {}, h("a", { href: "#/sign-in" }, "Sign in")));
  }
  // The link usually opens in a new tab: a booking under way is in the tab it started in.
  const pending = sessionStorage.getItem("clinic.booking");
  return page("Email address confirmed",
    h("p", { role: "status" }, "Thank you: your email address is confirmed."),
    pending
      ? h("p", {}, h("a", { href: `#/hold/${JSON.parse(pending).hold?.id || "direct"}` }, "Continue with your booking"))
      : h("p", {}, "If you were booking, go back to that page and confirm. Or ", h("a", { href: "#/" }, "book an appointment"), "."));
}

function forgotView() {
  const done = h("div", { role: "status" });
  return page("Forgotten password",
    h("p", {}, "Enter the email address you registered with. We will send a link to choose a new password."),
    form({ className: "forgot" }, [field("Email", { type: "email", name: "email", autocomplete: "email", required: true })],
      "Send the link",
      async ({ email }) => {
        await api("/auth/password-reset/", { method: "POST", body: { email }, auth: false });
        done.replaceChildren(h("p", {}, `If ${email} has an account with us, a link is on its way. It works once and for a short time.`));
      }),
    done);
}

function resetView({ query }) {
  return page("Choose a new password",
    form({ className: "reset" },
      [field("New password", { type: "password", name: "password", autocomplete: "new-password", required: true }, "At least 12 characters.")],
      "Save the new password",
      async ({ password }) => {
        try {
          await api("/auth/password-reset/confirm/", { method: "POST", body: { token: query.token || "", password }, auth: false });
        } catch (error) {
          if (error.code === "invalid_token") error.message = "This link has expired or has been used. Ask for a new one.";
          throw error;
        }
        tokens.clear();
        sessionStorage.setItem(NOTICE, "Your password has been changed. Sign in with the new one.");
        go("#/sign-in");
      }),
    h("p", {}, h("a", { href: "#/forgot-password" }, "Ask for a new link")));
}

export const accountViews = {
  "sign-in": signInView,
  register: registerView,
  "verify-email": verifyView,
  "forgot-password": forgotView,
  "reset-password": resetView,
};
