// Start GOV.UK Frontend's components (error summary focus, file upload, navigation).
// Pages work without it: every form is a plain HTML form.
import { initAll } from "/assets/govuk-frontend.min.js";

initAll();
