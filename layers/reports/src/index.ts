export * from './episode-report';
export * from './episode-report-html';
export * from './leaderboard';
export * from './leaderboard-agents';
export type * from './eval-report-data';
export * from './eval-report-html';
export * from './dashboard-html';
export { SafeHtml, escapeHtml, formatTime, formatUsd, html, jsonForScript, contentSecurityPolicy, renderPage } from './html';
export { CLIENT_SCRIPT } from '../generated/assets';
