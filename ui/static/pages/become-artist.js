// Create an artist profile; the server makes the caller an artist.
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { html } from '../html.js';
import { useTitle } from '../hooks.js';
import { ErrorBox, Guard } from '../components.js';
import { navigate } from '../router.js';
import { refreshSession, useSession } from '../session.js';

export function BecomeArtist() {
  useTitle('Become an artist');
  return html`<div class="page narrow">
    <h1>Become an artist</h1>
    <${Guard} role="listener"><${ArtistSignup} /></${Guard}>
  </div>`;
}

function ArtistSignup() {
  const s = useSession();
  const [name, setName] = useState('');
  const [bio, setBio] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const artist = await api.post('/api/v1/artists', { name, bio });
      await refreshSession();
      navigate(`/app/artists/${artist.id}`);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };
  return html`
    ${s.artists.length > 0 &&
    html`<p class="sub">
      You already have ${s.artists.length === 1 ? 'a profile' : 'profiles'}:
      ${s.artists.map((a, i) => html`${i ? ', ' : ''}<a href=${`/app/artists/${a.id}`}>${a.name}</a>`)}.
      You can create another one for a different project.
    </p>`}
    <form class="panel form" onSubmit=${submit}>
      <p class="sub">Your artist profile is what listeners see and what your listens are paid to.</p>
      <${ErrorBox} error=${error} />
      <label>Artist name
        <input required value=${name} onInput=${(e) => setName(e.currentTarget.value)} />
      </label>
      <label>Bio
        <textarea rows="5" value=${bio} onInput=${(e) => setBio(e.currentTarget.value)}></textarea>
      </label>
      <button class="btn primary" disabled=${busy}>${busy ? 'Creating…' : 'Create artist profile'}</button>
    </form>`;
}
