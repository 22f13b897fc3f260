// Your account: the profile others see (here and on other servers), and
// closing the account, with what that does to money and data.
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { html } from '../html.js';
import { useFetch, useTitle } from '../hooks.js';
import { formatMoney } from '../format.js';
import { EditForm, ErrorBox, Guard, PicturePickers } from '../components.js';
import { navigate } from '../router.js';
import { refreshSession, session, useSession } from '../session.js';

export function Account() {
  useTitle('Your account');
  return html`<div class="page narrow">
    <h1>Your account</h1>
    <${Guard} role="listener"><${AccountPanels} /></${Guard}>
  </div>`;
}

function AccountPanels() {
  const s = useSession();
  const save = async (patch) => {
    await api.patch('/api/v1/me', patch);
    await refreshSession();
  };
  return html`
    <section class="panel" aria-labelledby="profile-title">
      <h2 id="profile-title">Profile</h2>
      <p class="sub">You are <strong>@${s.user.username}</strong>. People who follow you here or on other servers see this.</p>
      <${EditForm} testid="profile-form" record=${s.user} onSave=${save}
        fields=${[{ key: 'display_name', label: 'Display name', required: true }, { key: 'bio', label: 'About you' }]} />
      <${PicturePickers} base="/api/v1/me/pictures" record=${s.user} onChange=${refreshSession} />
    </section>
    <${CloseAccount} user=${s.user} />`;
}

function CloseAccount({ user }) {
  const money = useFetch(user.role === 'admin' ? null : '/api/v1/me/money');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  if (user.role === 'admin') {
    return html`<section class="panel" aria-labelledby="close-title">
      <h2 id="close-title">Close your account</h2>
      <p class="sub">An admin account is closed by another admin, so that the node always keeps one.</p>
    </section>`;
  }
  const submit = async (e) => {
    e.preventDefault();
    if (!confirm('Close your account for good? This cannot be undone.')) return;
    setBusy(true);
    setError(null);
    try {
      await api.delete('/api/v1/me', { password });
      session.set({ loading: false, user: null, artists: [], error: null });
      navigate('/?closed=1');
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };
  return html`<section class="panel" aria-labelledby="close-title" data-testid="close-account">
    <h2 id="close-title">Close your account</h2>
    <ul class="sub">
      <li>Your profile, playlists, comments, likes, follows and registered wallets are erased, and other servers are told to forget you and what you published. Your username stays reserved, so nobody can pose as you.</li>
      <li>Your subscription stops renewing. This month's $9 still goes to the artists you listened to this month; your listening is then unlinked from you.</li>
      <li>Your balance${money.data ? html` (<strong data-testid="close-balance">${formatMoney(money.data.balance)}</strong> now)` : ''} and any artist earnings stay on the node's ledger: ask the node's admin to pay them out to you.</li>
      <li>Your artist profiles and their music go too.</li>
    </ul>
    <form class="form" onSubmit=${submit}>
      <${ErrorBox} error=${error} />
      <label>Your password, to confirm
        <input type="password" autocomplete="current-password" required value=${password}
          onInput=${(e) => setPassword(e.currentTarget.value)} />
      </label>
      <button class="btn danger" disabled=${busy}>${busy ? 'Closing…' : 'Close my account'}</button>
    </form>
  </section>`;
}
