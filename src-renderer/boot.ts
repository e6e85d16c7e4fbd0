import { pickBridge, type PickedBridge } from './bridge/index.ts';
import { startFollowing } from './store/commands.ts';

// Picks the bridge and starts following the service's events. main.tsx imports this
// before React: modules run in import order, so the event stream (and with it the
// snapshot) is on its way while react-dom's code is still being evaluated.

/** The bridge this page uses, or why it has none. */
export const picked: PickedBridge = pickBridge();
if (picked.ok) startFollowing(picked.bridge);
