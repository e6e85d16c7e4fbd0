import './zodConfig.ts';
import { picked } from './boot.ts';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import { NoToken } from './NoToken.tsx';
import './styles.css';

// Renderer entry, shared by the Electron window and the daemon's browser page. The
// imports above run in order: zod's settings, then the bridge (boot.ts), then React.

const container = document.getElementById('root');
if (!container) throw new Error('index.html has no #root element');
createRoot(container).render(<StrictMode>{picked.ok ? <App /> : <NoToken />}</StrictMode>);
