/**
 * The answers PostHog SDKs get when they ask what is enabled: remote config
 * (`/array/<key>/config`, `/array/<key>/config.js`), feature flags (`/flags/`, and the older
 * `/decide/`), surveys, web experiments, product tours and early access features. Beacon
 * enables none of them, so each answers PostHog's documented "nothing enabled" shape: the
 * SDK then sends events (gzip, to `/i/v0/e/`) and stays quiet otherwise.
 *
 * @module
 */

/**
 * The remote config with nothing enabled: gzip supported, events to `/i/v0/e/`, no flags,
 * recordings, surveys, heatmaps, tours, site apps or exception autocapture.
 *
 * @param token The project key the SDK asked with (echoed, as PostHog does).
 * @returns The config object.
 */
export function nothingEnabledConfig(token: string): Record<string, unknown> {
  return {
    token,
    supportedCompression: ["gzip", "gzip-js"],
    hasFeatureFlags: false,
    captureDeadClicks: false,
    capturePerformance: false,
    autocapture_opt_out: false,
    autocaptureExceptions: false,
    analytics: { endpoint: "/i/v0/e/" },
    elementsChainAsString: true,
    errorTracking: { autocaptureExceptions: false, suppressionRules: [] },
    logs: { captureConsoleLogs: false },
    sessionRecording: false,
    heatmaps: false,
    surveys: false,
    productTours: false,
    defaultIdentifiedOnly: true,
    siteApps: [],
  };
}

/**
 * The `/flags/` answer (and `/decide/`'s) with no flag: both the v2 shape (`flags`) and the
 * older one (`featureFlags`, `featureFlagPayloads`), plus the remote config for callers that
 * ask `config=true`.
 *
 * @param token The project key, when the request names one.
 * @returns The answer's body.
 */
export function noFlags(token: string): Record<string, unknown> {
  return {
    ...nothingEnabledConfig(token),
    config: { enable_collect_everything: true },
    toolbarParams: {},
    isAuthenticated: false,
    flags: {},
    featureFlags: {},
    featureFlagPayloads: {},
    errorsWhileComputingFlags: false,
    quotaLimited: [],
    requestId: crypto.randomUUID(),
  };
}

/**
 * The `config.js` script: registers the config under the key in
 * `window._POSTHOG_REMOTE_CONFIG`, as PostHog's does.
 *
 * @param token The project key of the path.
 * @returns The script's text.
 */
export function configScript(token: string): string {
  const entry = JSON.stringify({ config: nothingEnabledConfig(token), siteApps: [] });
  return `(function () {
  window._POSTHOG_REMOTE_CONFIG = window._POSTHOG_REMOTE_CONFIG || {};
  window._POSTHOG_REMOTE_CONFIG[${JSON.stringify(token)}] = ${entry};
})();
`;
}

/** The empty lists of the other "what is enabled" endpoints, by path. */
export const EMPTY_LISTS: Record<string, Record<string, unknown[]>> = {
  "/api/surveys": { surveys: [] },
  "/api/web_experiments": { experiments: [] },
  "/api/product_tours": { product_tours: [] },
  "/api/early_access_features": { earlyAccessFeatures: [] },
};
