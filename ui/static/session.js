// Who is logged in. The server keeps the session in a cookie; the app only
// mirrors /api/v1/me so pages know what to offer.
import { api } from './api.js';
import { createStore, useStore } from './store.js';

// error is set when /me failed for a reason other than "not logged in",
// typically because the server cannot be reached.
export const session = createStore({ loading: true, user: null, artists: [], error: null });

export const useSession = () => useStore(session);

export async function refreshSession() {
  try {
    const me = await api.get('/api/v1/me');
    session.set({ loading: false, user: me.user, artists: me.artists || [], error: null });
  } catch (err) {
    session.set({ loading: false, user: null, artists: [], error: err.status === 401 ? null : err.message });
  }
}

export async function login(username, password) {
  await api.post('/api/v1/auth/login', { username, password });
  await refreshSession();
}

export async function signup(username, password, displayName) {
  await api.post('/api/v1/auth/signup', { username, password, display_name: displayName });
  await refreshSession();
}

export async function logout() {
  await api.post('/api/v1/auth/logout');
  session.set({ user: null, artists: [] });
}

const ranks = { listener: 1, artist: 2, admin: 3 };

// hasRole mirrors the server's ordering of roles: an admin can do all an
// artist can, an artist all a listener can.
export const hasRole = (user, role) => !!user && !user.disabled && (ranks[user.role] || 0) >= ranks[role];

export const isAdmin = (s) => s.user?.role === 'admin';

const ownsArtist = (s, artistId) => s.artists.some((a) => a.id === artistId);

export const canEditTrack = (s, track) => isAdmin(s) || ownsArtist(s, track.artist_id);

export const canEditAlbum = (s, album) => isAdmin(s) || ownsArtist(s, album.artist_id);
