// Listening reports (admin): each day's report of a month — made, anchored
// on the ledger, groups too small to publish — with the day's listening as
// a bar, and the month's report with its checks, compiled on request.
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { html } from '../html.js';
import { useFetch } from '../hooks.js';
import { Empty, ErrorBox, Status } from '../components.js';
import { formatDate, plural } from '../format.js';

const thisMonth = () => new Date().toISOString().slice(0, 7);

export function Reports() {
  const [month, setMonth] = useState(thisMonth());
  const res = useFetch(`/api/v1/admin/reports?month=${encodeURIComponent(month)}`);
  const d = res.data;
  const most = Math.max(1, ...(d?.dailies || []).map((r) => r.listens));
  return html`<section aria-labelledby="reports-title" data-testid="admin-reports">
    <h2 id="reports-title">Listening reports</h2>
    <p class="muted">Each UTC day's verified listening, pseudonymised, encrypted to this node, its cluster peers and the
      auditors, signed and anchored on the ledger; groups of fewer listeners than the node's k are left out of what is published.</p>
    <label>Month <input type="month" value=${month} onChange=${(e) => e.currentTarget.value && setMonth(e.currentTarget.value)} /></label>
    <${Status} result=${res} />
    ${d && html`<p class="muted">Signed by <code>${d.signer}</code></p>`}
    ${d && html`<${Monthly} month=${month} monthly=${d.monthly} onDone=${res.reload} />`}
    ${d && d.dailies.length === 0 && html`<${Empty}>No daily report for ${month} yet: a day's report is made an hour after its midnight (UTC).</${Empty}>`}
    ${d && d.dailies.length > 0 && html`<div class="table-wrap"><table data-testid="daily-reports">
      <thead><tr><th scope="col">Day</th><th scope="col">Status</th><th scope="col">Listens</th><th scope="col">Listeners</th>
        <th scope="col">Suppressed</th><th scope="col">Hash</th><th scope="col">Made</th></tr></thead>
      <tbody>${d.dailies.map((r) => html`<tr key=${r.id}>
        <td>${r.day}</td>
        <td>${r.anchored ? html`<span class="badge badge-ready">anchored v${r.version}</span>` : html`<span class="badge badge-pending">not anchored</span>`}</td>
        <td class="num"><span class="bar" style=${`--share: ${(100 * r.listens) / most}%`} aria-hidden="true"></span>${r.listens}</td>
        <td class="num">${r.listeners}</td>
        <td class="num">${r.suppressed}</td>
        <td><code title=${r.hash}>${r.hash.slice(0, 12)}…</code></td>
        <td>${formatDate(r.created_at)}</td>
      </tr>`)}</tbody>
    </table></div>`}
  </section>`;
}

// Monthly shows the month's report and compiles it (with its checks) on
// request, once the month is over.
function Monthly({ month, monthly, onDone }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const [checked, setChecked] = useState(null);
  const compile = async () => {
    setBusy(true);
    setError(null);
    try {
      setChecked(await api.post('/api/v1/admin/reports/monthly', { month }));
      onDone();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const shown = checked && checked.report.day === month ? checked : null;
  return html`<div class="report-month" data-testid="monthly-report">
    <h3>Month ${month}</h3>
    ${monthly
      ? html`<p><span class="badge ${monthly.anchored ? 'badge-ready' : 'badge-pending'}">${monthly.anchored ? `anchored v${monthly.version}` : 'not anchored'}</span>
          ${plural(monthly.listens, 'listen')} by ${plural(monthly.listeners, 'listener')}, ${plural(monthly.suppressed, 'group')} suppressed
          · <code title=${monthly.hash}>${monthly.hash.slice(0, 12)}…</code></p>`
      : html`<p class="muted">Not compiled yet: the node compiles the month before on the 1st, and the settlement pays from it.</p>`}
    <button type="button" class="btn" disabled=${busy} onClick=${compile}>${busy ? 'Checking…' : 'Compile and check'}</button>
    <${ErrorBox} error=${error} />
    ${shown && html`<p data-testid="monthly-checks" class=${shown.ok ? '' : 'error-text'}>
      ${shown.ok ? 'Every check passed: the dailies add up, every listen is verified, the anchors match.' : `${plural(shown.findings.length, 'problem')} found:`}</p>
      ${!shown.ok && html`<ul>${shown.findings.map((f, i) => html`<li key=${i}><strong>${f.check}</strong>: ${f.problem}</li>`)}</ul>`}`}
  </div>`;
}
