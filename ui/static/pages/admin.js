// Administration: users (disable, change role), all tracks including
// hidden and unfinished ones (hide, delete), the job queue, the listening
// reports, the fake-stream flags awaiting review, and what passes between
// nodes (settlement statements, peer reviews).
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { html } from '../html.js';
import { useFetch, useInterval, usePaged, useTitle } from '../hooks.js';
import { Empty, ErrorBox, Guard, Loading, Status, StatusBadge } from '../components.js';
import { formatDate, formatMoney } from '../format.js';
import { useSession } from '../session.js';
import { Reports } from './reports.js';
import { AnomalyReview } from './anomalies.js';
import { BetweenNodes } from './statements.js';

const JOBS_REFRESH_MS = 3000;
const tabs = [
  ['users', 'Users'],
  ['tracks', 'Tracks'],
  ['jobs', 'Jobs'],
  ['reports', 'Reports'],
  ['anomalies', 'Fake streams'],
  ['statements', 'Between nodes'],
];

export function Admin() {
  useTitle('Admin');
  const [tab, setTab] = useState('users');
  return html`<div class="page">
    <h1>Admin</h1>
    <${Guard} role="admin">
      <nav class="tabs" aria-label="Admin sections">
        ${tabs.map(
          ([id, label]) => html`<button type="button" class="tab" aria-pressed=${tab === id} onClick=${() => setTab(id)}>${label}</button>`,
        )}
      </nav>
      ${tab === 'users' && html`<${Users} />`}
      ${tab === 'tracks' && html`<${Tracks} />`}
      ${tab === 'jobs' && html`<${Jobs} />`}
      ${tab === 'reports' && html`<${Reports} />`}
      ${tab === 'anomalies' && html`<${AnomalyReview} />`}
      ${tab === 'statements' && html`<${BetweenNodes} />`}
    </${Guard}>
  </div>`;
}

// useRowAction runs an API call for one row and keeps its error for display.
function useRowAction(list) {
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(null);
  const run = async (id, call, apply) => {
    setBusy(id);
    setError(null);
    try {
      const result = await call();
      list.setItems((items) => apply(items, result));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(null);
    }
  };
  return { error, busy, run };
}

const replaceRow = (items, row) => items.map((it) => (it.id === row.id ? row : it));

function Users() {
  const me = useSession().user;
  const list = usePaged('/api/v1/admin/users', {});
  const action = useRowAction(list);
  const patch = (u, body) => action.run(u.id, () => api.patch(`/api/v1/admin/users/${u.id}`, body), replaceRow);
  const [paid, setPaid] = useState(null);
  const close = (u) => {
    if (!confirm(`Close ${u.username}'s account for good? Their data is erased; their money stays on the ledger for you to pay out.`)) return;
    action.run(u.id, async () => {
      await api.delete(`/api/v1/admin/users/${u.id}`);
      return { ...u, disabled: true, display_name: '', deleted_at: new Date().toISOString() };
    }, replaceRow);
  };
  const payOut = (u) => {
    const ref = prompt(`Pay ${u.username}'s money out yourself (a bank transfer, a USDP transfer…), then give its reference:`);
    if (!ref) return;
    action.run(u.id, async () => {
      const res = await api.post(`/api/v1/admin/users/${u.id}/payouts`, { ref });
      setPaid({ user: u.username, amount: res.items.reduce((sum, tx) => sum + tx.amount, 0) });
      return u;
    }, replaceRow);
  };

  return html`
    <${ErrorBox} error=${list.error || action.error} onRetry=${list.error && list.reload} />
    ${paid && html`<p class="sub" role="status">Recorded: ${formatMoney(paid.amount)} paid out to ${paid.user}.</p>`}
    <div class="table-wrap"><table>
      <thead><tr><th scope="col">User</th><th scope="col">Display name</th><th scope="col">Role</th><th scope="col">Status</th><th scope="col">Joined</th></tr></thead>
      <tbody>
        ${list.items.map(
          (u) => html`<tr key=${u.id}>
            <td>${u.username}</td>
            <td>${u.display_name}</td>
            <td>
              ${u.deleted_at
                ? u.role
                : html`<select aria-label=${`Role of ${u.username}`} value=${u.role} disabled=${action.busy === u.id || u.id === me?.id}
                    onChange=${(e) => patch(u, { role: e.currentTarget.value })}>
                    <option value="listener">listener</option>
                    <option value="artist">artist</option>
                    <option value="admin">admin</option>
                  </select>`}
            </td>
            <td>
              ${u.deleted_at
                ? html`<span class="badge badge-failed">closed</span>
                    <button type="button" class="btn small" disabled=${action.busy === u.id} onClick=${() => payOut(u)}>Record payout</button>`
                : html`<button type="button" class=${u.disabled ? 'btn small' : 'btn small danger'}
                      disabled=${action.busy === u.id || u.id === me?.id} onClick=${() => patch(u, { disabled: !u.disabled })}>
                      ${u.disabled ? 'Enable' : 'Disable'}
                    </button>
                    <button type="button" class="btn small danger" disabled=${action.busy === u.id || u.id === me?.id} onClick=${() => close(u)}>Close account</button>
                    ${u.disabled && html` <span class="badge badge-failed">disabled</span>`}`}
            </td>
            <td>${formatDate(u.created_at)}</td>
          </tr>`,
        )}
      </tbody>
    </table></div>
    ${list.loading && html`<${Loading} />`}
    ${list.hasMore && !list.loading && html`<button type="button" class="btn" onClick=${list.loadMore}>Load more</button>`}`;
}

function Tracks() {
  const list = usePaged('/api/v1/tracks', { all: 1 });
  const action = useRowAction(list);
  const setHidden = (t) => action.run(t.id, () => api.patch(`/api/v1/tracks/${t.id}`, { hidden: !t.hidden }), replaceRow);
  const remove = (t) => {
    if (!confirm(`Delete “${t.title}” by ${t.artist}? This cannot be undone.`)) return;
    action.run(t.id, () => api.delete(`/api/v1/tracks/${t.id}`), (items) => items.filter((it) => it.id !== t.id));
  };

  return html`
    <${ErrorBox} error=${list.error || action.error} onRetry=${list.error && list.reload} />
    ${!list.loading && !list.error && list.items.length === 0 && html`<${Empty}><p>No tracks on this node.</p></${Empty}>`}
    ${list.items.length > 0 &&
    html`<div class="table-wrap"><table>
      <thead><tr><th scope="col">Title</th><th scope="col">Artist</th><th scope="col">Status</th><th scope="col">Plays</th><th scope="col">Uploaded</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
      <tbody>
        ${list.items.map(
          (t) => html`<tr key=${t.id}>
            <td><a href=${`/app/tracks/${t.id}`}>${t.title}</a></td>
            <td><a href=${`/app/artists/${t.artist_id}`}>${t.artist}</a></td>
            <td>${t.status === 'ready' && !t.hidden ? 'ready' : html`<${StatusBadge} track=${t} />`}</td>
            <td>${t.play_count ?? 0}</td>
            <td>${formatDate(t.created_at)}</td>
            <td class="row-actions">
              <button type="button" class="btn small" disabled=${action.busy === t.id} onClick=${() => setHidden(t)}>
                ${t.hidden ? 'Unhide' : 'Hide'}
              </button>
              <button type="button" class="btn small danger" disabled=${action.busy === t.id} onClick=${() => remove(t)}>Delete</button>
            </td>
          </tr>`,
        )}
      </tbody>
    </table></div>`}
    ${list.loading && html`<${Loading} />`}
    ${list.hasMore && !list.loading && html`<button type="button" class="btn" onClick=${list.loadMore}>Load more</button>`}`;
}

function Jobs() {
  const jobs = useFetch('/api/v1/admin/jobs');
  useInterval(jobs.reload, JOBS_REFRESH_MS);
  if (!jobs.data) return html`<${Status} result=${jobs} />`;
  const items = jobs.data.items || [];
  return html`
    <${ErrorBox} error=${jobs.error} />
    ${items.length === 0
      ? html`<${Empty}><p>No active jobs.</p></${Empty}>`
      : html`<div class="table-wrap"><table>
          <thead><tr><th scope="col">Job</th><th scope="col">Kind</th><th scope="col">Track</th><th scope="col">Status</th><th scope="col">Progress</th><th scope="col">Attempts</th><th scope="col">Last error</th></tr></thead>
          <tbody>
            ${items.map(
              (j) => html`<tr key=${j.id}>
                <td>${j.id}</td>
                <td>${j.kind}</td>
                <td>${j.track_id ? html`<a href=${`/app/tracks/${j.track_id}`}>#${j.track_id}</a>` : '–'}</td>
                <td>${j.status}</td>
                <td><progress max="100" value=${j.progress ?? 0} aria-label=${`Job ${j.id} progress`}></progress> ${j.progress ?? 0}%</td>
                <td>${j.attempts}</td>
                <td class="error-text">${j.last_error}</td>
              </tr>`,
            )}
          </tbody>
        </table></div>`}`;
}
