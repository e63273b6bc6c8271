/**
 * The states of every page that the layout test lays out in a browser at phone width: which page,
 * its options, the recorded answers it gets, and what the user does before the picture.
 * Responses have the server's real shapes (the unit tests of each page hold the same).
 *
 * @typedef {{ name: string, route: string, options?: Record<string, string>,
 *   routes?: [string, string | RegExp, number | string, any?][], before?: (mp: any) => void,
 *   act?: (page: any) => Promise<void> }} Scenario
 */
const { apiError } = require('../helpers')

const ESTATE = { id: 12, name: '翠竹苑', city: '深圳市', district: '南山区' }
const STEWARD = { binding_id: 7, engineer: { id: 3, name: '王建国', photo_url: '/api/v1/uploads/p.jpg', status: 'active' },
  estate: ESTATE, since: '2026-12-04T10:00:00+08:00', rank: 2 }
const BOUND = { token: 'tok', user: { id: 5 }, result: 'created', steward: STEWARD, estate: ESTATE,
  visit: { id: 1, rating: null }, points: { granted: 0, refused: null } }

/** @type {Scenario[]} */
const scenarios = [
  { name: 'bind-binding', route: 'pages/bind/index', options: { scene: 'S' }, routes: [['POST', '/api/v1/bindings', 'never']] },
  { name: 'bind-bound', route: 'pages/bind/index', options: { scene: 'S' }, routes: [['POST', '/api/v1/bindings', 200, BOUND]] },
  { name: 'bind-expired', route: 'pages/bind/index', options: { scene: 'S' },
    routes: [['POST', '/api/v1/bindings', 410, apiError('binding_code_expired', '二维码已过期，请让工程师刷新后再扫')]] },
]

scenarios.push(...require('./work-scenarios').scenarios)
scenarios.push(...require('./resident-scenarios').scenarios)

module.exports = { scenarios }
