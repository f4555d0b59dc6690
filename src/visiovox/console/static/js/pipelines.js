// The pipelines page: one form per pipeline, made from GET /v1/pipelines (params_schema, inputs).

import { getJson, submitJob } from "./api.js";
import { h, uniqueId } from "./dom.js";
import { rememberUploads } from "./job_view.js";

const SKIPPED = new Set(["assistant-live", "face-swap-live", "voice-convert-live"]);

// A schema property without its `anyOf: [X, null]` wrapper, and whether null is allowed.
function unwrap(property) {
  if (!property.anyOf) return { ...property, nullable: false };
  const kinds = property.anyOf.filter((option) => option.type !== "null");
  return { ...property, ...kinds[0], nullable: kinds.length < property.anyOf.length };
}

function bounded(schema) {
  const low = schema.minimum ?? schema.exclusiveMinimum;
  const high = schema.maximum ?? schema.exclusiveMaximum;
  return low !== undefined && high !== undefined ? [low, high] : null;
}

function numberControl(name, id, schema) {
  const step = schema.type === "integer" ? 1 : "any";
  const bounds = bounded(schema);
  const number = h("input", {
    type: "number", id, name, step, min: schema.minimum, max: schema.maximum,
    value: schema.default ?? "", placeholder: schema.default === null ? "default" : null,
  });
  const span = bounds ? bounds[1] - bounds[0] : Infinity;
  if (!bounds || (schema.type === "integer" && span > 1000)) return number;
  const slider = h("input", {
    type: "range", min: bounds[0], max: bounds[1], step: schema.type === "integer" ? 1 : span / 100,
    value: schema.default ?? bounds[0], "aria-label": `${schema.title || name} slider`, tabindex: -1,
  });
  slider.addEventListener("input", () => { number.value = slider.value; });
  number.addEventListener("input", () => { if (number.value !== "") slider.value = number.value; });
  return h("span", { class: "pair" }, slider, number);
}

function control(name, id, schema) {
  if (schema.enum) {
    return h("select", { id, name },
      schema.nullable ? h("option", { value: "" }, "(default)") : null,
      schema.enum.map((value) => h("option", { value, selected: value === schema.default }, value)));
  }
  if (schema.type === "boolean") return h("input", { type: "checkbox", id, name, checked: schema.default === true });
  if (schema.type === "number" || schema.type === "integer") return numberControl(name, id, schema);
  if (schema.type === "array" || schema.type === "object" || schema.$ref) {
    return h("textarea", { id, name, "data-json": true, placeholder: "JSON" });
  }
  if ((schema.maxLength ?? 0) > 256) return h("textarea", { id, name, required: !schema.nullable && schema.default === undefined });
  return h("input", { type: "text", id, name, maxlength: schema.maxLength, placeholder: schema.nullable ? "default" : null });
}

function paramField(name, property, required) {
  const schema = unwrap(property);
  const id = uniqueId(`param-${name}`);
  const hint = schema.description ? h("p", { class: "hint", id: `${id}-hint` }, schema.description) : null;
  const input = control(name, id, schema);
  const target = input.querySelector?.("input[type=number]") || input;
  if (hint) target.setAttribute("aria-describedby", hint.id);
  if (required && target.tagName !== "SELECT") target.required = true;
  target.dataset.param = name;
  target.dataset.kind = schema.type || "";
  return h("div", { class: "field" }, h("label", { for: id }, schema.title || name, required ? " *" : ""), input, hint);
}

function fileField(input) {
  const id = uniqueId(`file-${input.field}`);
  const accept = input.kinds.map((kind) => `${kind}/*`).join(",");
  const when = input.required_when ? Object.entries(input.required_when)[0] : null;
  const note = when ? (when[1] === null ? ` (required without ${when[0]})` : ` (with ${when[0]}=${when[1]})`) : "";
  const control = h("input", { type: "file", id, name: input.field, accept, required: input.required, "data-file": input.field });
  const field = h("div", { class: "field" },
    h("label", { for: id }, input.field, input.required ? " *" : "", note), control,
    h("p", { class: "hint" }, `${input.description} (${input.kinds.join(" or ")})`));
  if (when && when[1] !== null) field.dataset.when = JSON.stringify(when);
  return field;
}

// Show a conditional input only when its param has the value that needs it.
function updateConditions(form) {
  for (const field of form.querySelectorAll("[data-when]")) {
    const [param, value] = JSON.parse(field.dataset.when);
    const chosen = form.querySelector(`[data-param="${param}"]`);
    const shown = chosen && chosen.value === String(value);
    field.hidden = !shown;
    field.querySelector("input").required = shown;
  }
}

function paramValue(control) {
  if (control.type === "checkbox") return control.checked;
  const text = control.value.trim();
  if (text === "") return undefined;
  if (control.dataset.json !== undefined) return JSON.parse(text);
  if (control.dataset.kind === "number" || control.dataset.kind === "integer") return Number(text);
  return text;
}

function body(form) {
  const params = {};
  for (const control of form.querySelectorAll("[data-param]")) {
    const value = paramValue(control);
    if (value !== undefined) params[control.dataset.param] = value;
  }
  const files = [...form.querySelectorAll("[data-file]")].filter((input) => input.files.length && !input.closest("[hidden]"));
  if (!files.length) return { body: params, files: {} };
  const data = new FormData();
  for (const [name, value] of Object.entries(params)) {
    data.append(name, typeof value === "object" ? JSON.stringify(value) : String(value));
  }
  const chosen = {};
  for (const input of files) {
    data.append(input.dataset.file, input.files[0]);
    chosen[input.dataset.file] = input.files[0];
  }
  return { body: data, files: chosen };
}

function pipelineForm(pipeline, notify) {
  const schema = pipeline.params_schema;
  const required = new Set(schema.required || []);
  const progress = h("progress", { max: 1, value: 0, hidden: true, "aria-label": `${pipeline.name} upload` });
  const submit = h("button", { type: "submit" }, `Submit ${pipeline.name}`);
  const form = h("form", { "data-pipeline": pipeline.name },
    h("fieldset", {},
      h("legend", {}, pipeline.name),
      h("p", {}, pipeline.summary),
      pipeline.inputs.map(fileField),
      Object.entries(schema.properties || {}).map(([name, property]) => paramField(name, property, required.has(name))),
      h("div", { class: "row" }, submit, progress)));
  form.addEventListener("change", () => updateConditions(form));
  updateConditions(form);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    notify("");
    let request;
    try {
      request = body(form);
    } catch (error) {
      notify(`A JSON field does not parse: ${error.message}`);
      return;
    }
    submit.disabled = true;
    progress.hidden = false;
    try {
      const job = await submitJob(pipeline.name, request.body, (fraction) => { progress.value = fraction; });
      rememberUploads(job.id, request.files);
      location.hash = `#/job/${job.id}`;
    } catch (error) {
      notify(error.message);
    } finally {
      submit.disabled = false;
      progress.hidden = true;
    }
  });
  return form;
}

export async function showPipelines(main, { notify }) {
  const { data } = await getJson("v1/pipelines");
  const pipelines = data.filter((pipeline) => !SKIPPED.has(pipeline.name));
  const chooser = h("select", { id: "pipeline-choice" }, pipelines.map((p) => h("option", { value: p.name }, p.name)));
  const holder = h("div", {});
  const show = () => holder.replaceChildren(pipelineForm(pipelines.find((p) => p.name === chooser.value), notify));
  chooser.addEventListener("change", show);
  const wanted = new URLSearchParams(location.hash.split("?")[1] || "").get("name");
  if (wanted && pipelines.some((p) => p.name === wanted)) chooser.value = wanted;
  main.append(h("h2", {}, "Pipelines"), h("div", { class: "field" }, h("label", { for: "pipeline-choice" }, "Pipeline"), chooser), holder);
  show();
}
