// Small DOM helpers: every view builds its elements with h(), so text is always text
// (never parsed as HTML) and forms share one way of labelling fields and showing errors.

export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === false || value == null) continue;
    if (key.startsWith("on")) element.addEventListener(key.slice(2), value);
    else if (key in element && !key.includes("-")) element[key] = value;
    else element.setAttribute(key, value === true ? "" : value);
  }
  element.append(...children.flat().filter((child) => child != null && child !== false));
  return element;
}

let fieldCount = 0;

// A labelled input with room for its error message, tied together for screen readers.
export function field(label, { tag = "input", options = [], ...props }, hint) {
  const id = props.id || `f${++fieldCount}`;
  const hintId = hint ? `${id}-hint` : null;
  const errorId = `${id}-error`;
  const input = h(tag, { ...props, id }, options);
  input.setAttribute("aria-describedby", [hintId, errorId].filter(Boolean).join(" "));
  const isCheck = props.type === "checkbox" || props.type === "radio";
  const labelElement = h("label", { htmlFor: id }, label);
  return h(
    "div",
    { className: isCheck ? "field check" : "field", "data-field": props.name },
    isCheck ? [input, labelElement] : [labelElement, input],
    hint ? h("p", { className: "hint", id: hintId }, hint) : null,
    h("p", { className: "field-error", id: errorId }),
  );
}

// A list of choices as a fieldset of checkboxes or radio buttons. `prefix` keeps the ids
// unique where one page shows the same form twice.
export function choices(legend, name, options, type = "checkbox", prefix = "") {
  const id = `${prefix}${name}`;
  return h(
    "fieldset",
    { className: "choices", "data-field": name, "aria-describedby": `${id}-error` },
    h("legend", {}, legend),
    options.map(([value, label]) => field(label, { type, name, value, id: `${id}-${value}` })),
    h("p", { className: "field-error", id: `${id}-error` }),
  );
}

export function formData(form) {
  const data = {};
  for (const element of form.elements) {
    if (!element.name || element.disabled) continue;
    if (element.type === "checkbox" && form.querySelectorAll(`[name="${element.name}"]`).length > 1) {
      data[element.name] ??= [];
      if (element.checked) data[element.name].push(element.value);
    } else if (element.type === "checkbox") data[element.name] = element.checked;
    else if (element.type === "radio") {
      if (element.checked) data[element.name] = element.value;
    } else data[element.name] = element.value.trim();
  }
  return data;
}

// The API's error next to each field it names, and its summary at the top of the form
// (with the messages of fields the form does not show); focus goes to the first field in
// error so a keyboard user lands where the fix is.
export function showErrors(form, error) {
  clearErrors(form);
  const unshown = [];
  for (const [name, messages] of Object.entries(error.fields || {})) {
    const box = form.querySelector(`[data-field="${name}"]`);
    if (!box) {
      unshown.push(...[].concat(messages));
      continue;
    }
    box.querySelector(":scope > .field-error").textContent = [].concat(messages).join(" ");
    const input = box.querySelector("input, select, textarea");
    input.setAttribute("aria-invalid", "true");
  }
  const summary = form.querySelector(".form-error");
  summary.textContent = [error.message, ...unshown].join(" ");
  (form.querySelector('[aria-invalid="true"]') || summary).focus();
}

export function clearErrors(form) {
  form.querySelectorAll(".field-error, .form-error").forEach((box) => (box.textContent = ""));
  form.querySelectorAll("[aria-invalid]").forEach((input) => input.removeAttribute("aria-invalid"));
}

// A form whose submit runs `action` with its data; while it runs the button is busy, and
// a refusal from the API is shown on the form itself.
export function form(props, children, submitLabel, action) {
  const button = h("button", { type: "submit", className: "primary" }, submitLabel);
  const element = h(
    "form",
    { ...props, noValidate: true },
    h("p", { className: "form-error", role: "alert", tabIndex: -1 }),
    children,
    button,
  );
  element.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(element);
    button.disabled = true;
    try {
      await action(formData(element), element);
    } catch (error) {
      if (!error.status && error.code !== "network") throw error;
      showErrors(element, error);
    } finally {
      button.disabled = false;
    }
  });
  return element;
}

// Polite announcements of async results for screen readers (the live region is in index.html).
// The click handler of a button that opens `makePanel()` in `area`, below it in its list
// item, closing whatever panel another button of the item had open; a second click closes.
export function panelToggle(area, makePanel) {
  return (event) => {
    const button = event.currentTarget;
    const open = button.getAttribute("aria-expanded") === "true";
    button.closest("li").querySelectorAll("[aria-expanded]").forEach((b) => b.setAttribute("aria-expanded", "false"));
    area.replaceChildren();
    if (!open) {
      button.setAttribute("aria-expanded", "true");
      area.append(makePanel());
      area.querySelector("input, button")?.focus();
    }
  };
}

export function announce(message) {
  const region = document.getElementById("status");
  region.textContent = "";
  requestAnimationFrame(() => (region.textContent = message));
}

export const date = (iso) =>
  new Date(`${iso.slice(0, 10)}T12:00:00Z`).toLocaleDateString(undefined, {
    weekday: "long", day: "numeric", month: "long", timeZone: "UTC",
  });

// Times come from the API in the location's own zone, with its offset: the wall-clock
// time is the text itself, right wherever the patient's device is.
export const time = (iso) => iso.slice(11, 16);

export const when = (iso) => `${date(iso)} at ${time(iso)}`;
