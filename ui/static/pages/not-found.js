// Unknown app routes.
import { html } from '../html.js';
import { useTitle } from '../hooks.js';
import { Empty } from '../components.js';

export function NotFound() {
  useTitle('Not found');
  return html`<div class="page">
    <h1>Page not found</h1>
    <${Empty}><p>There is nothing at this address.</p><a class="btn" href="/">Go home</a></${Empty}>
  </div>`;
}
