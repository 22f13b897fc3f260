// Log in and sign up. Both return to ?next= (an app path) afterwards.
import { useState } from 'preact/hooks';
import { html } from '../html.js';
import { useTitle } from '../hooks.js';
import { ErrorBox } from '../components.js';
import { isAppPath, navigate, useRoute } from '../router.js';
import { login, signup } from '../session.js';

// nextPath only follows app paths, so ?next= cannot send anyone elsewhere.
function nextPath(search) {
  const next = new URLSearchParams(search).get('next') || '/';
  return next.startsWith('/') && !next.startsWith('//') && isAppPath(next.split(/[?#]/)[0]) ? next : '/';
}

function useSubmit(action) {
  const route = useRoute();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await action();
      navigate(nextPath(route.search), { replace: true });
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };
  return { busy, error, submit, search: route.search };
}

export function Login() {
  useTitle('Log in');
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const { busy, error, submit, search } = useSubmit(() => login(username, password));
  return html`<div class="page narrow">
    <h1>Log in</h1>
    <form class="panel form" onSubmit=${submit}>
      <${ErrorBox} error=${error} />
      <label>Username
        <input data-testid="login-username" name="username" autocomplete="username" required autofocus
          value=${username} onInput=${(e) => setUsername(e.currentTarget.value)} />
      </label>
      <label>Password
        <input data-testid="login-password" name="password" type="password" autocomplete="current-password" required
          value=${password} onInput=${(e) => setPassword(e.currentTarget.value)} />
      </label>
      <button class="btn primary" data-testid="login-submit" disabled=${busy}>${busy ? 'Logging in…' : 'Log in'}</button>
    </form>
    <p class="sub">New here? <a href=${`/app/signup${search}`}>Create an account</a></p>
  </div>`;
}

export function Signup() {
  useTitle('Sign up');
  const [username, setUsername] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [password, setPassword] = useState('');
  const { busy, error, submit, search } = useSubmit(() => signup(username, password, displayName || username));
  return html`<div class="page narrow">
    <h1>Create an account</h1>
    <form class="panel form" onSubmit=${submit}>
      <${ErrorBox} error=${error} />
      <label>Username
        <input name="username" autocomplete="username" required autofocus
          value=${username} onInput=${(e) => setUsername(e.currentTarget.value)} />
      </label>
      <label>Display name
        <input name="display_name" autocomplete="nickname" placeholder="Shown to others; defaults to your username"
          value=${displayName} onInput=${(e) => setDisplayName(e.currentTarget.value)} />
      </label>
      <label>Password
        <input name="password" type="password" autocomplete="new-password" required
          value=${password} onInput=${(e) => setPassword(e.currentTarget.value)} />
      </label>
      <button class="btn primary" disabled=${busy}>${busy ? 'Creating account…' : 'Sign up'}</button>
    </form>
    <p class="sub">Already have an account? <a href=${`/app/login${search}`}>Log in</a></p>
  </div>`;
}
