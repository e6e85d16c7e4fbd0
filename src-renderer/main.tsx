import './zodConfig.ts';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import { pickBridge } from './bridge/index.ts';
import { NoToken } from './NoToken.tsx';
import { startFollowing } from './store/commands.ts';
import './styles.css';

// Renderer entry, shared by the Electron window and the daemon's browser page.

const container = document.getElementById('root');
if (!container) throw new Error('index.html has no #root element');
const picked = pickBridge();
// Events start flowing before the first render; the store is ready for it.
if (picked.ok) startFollowing(picked.bridge);
createRoot(container).render(<StrictMode>{picked.ok ? <App /> : <NoToken />}</StrictMode>);
