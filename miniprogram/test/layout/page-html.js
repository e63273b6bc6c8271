/**
 * A page rendered by miniprogram-simulate, as a standalone HTML document a browser can lay out:
 * the page's DOM inside a phone frame (navigation bar, tab bar on tab pages), the app's and the
 * components' styles, and the builtin elements (view, button, image, input…) styled as WeChat
 * draws them. 1 rpx = 1 CSS px, so a 750-px-wide viewport is a 375-pt phone (as at 2x).
 *
 * Call `clearStyles()` before loading the page: simulate adds each load's styles to one document.
 *
 * It is a faithful layout, not a pixel copy of WeChat: images show their placeholder background
 * (the test DOM does not carry `src`), inputs their box without placeholder text.
 */
const fs = require('fs')
const path = require('path')
const postcss = require('postcss')

const SRC = path.resolve(__dirname, '../../src')
const APP = JSON.parse(fs.readFileSync(path.join(SRC, 'app.json'), 'utf8'))

const BUILTINS = ['view', 'text', 'button', 'image', 'input', 'textarea', 'picker', 'navigator', 'scroll-view',
  'switch', 'swiper', 'swiper-item', 'icon', 'label', 'radio', 'radio-group', 'checkbox', 'checkbox-group', 'form',
  'slider', 'rich-text', 'block', 'map', 'canvas', 'progress', 'movable-area', 'movable-view', 'cover-view']
const TAG = new RegExp(`(^|[\\s,>+~(])(${BUILTINS.map((t) => t.replace('-', '\\-')).join('|')}|page)(?=$|[\\s.,:#\\[>+~)])`, 'g')

/** How WeChat draws its builtin components, roughly (rpx as px). */
const BASE = `
html, body { margin: 0; background: #f5f7fa; }
body { width: 750px; font-size: 32px; -webkit-text-size-adjust: none; }
wx-view, wx-scroll-view, wx-swiper, wx-swiper-item, wx-form, wx-navigator, wx-picker, wx-rich-text, wx-radio-group,
wx-checkbox-group, wx-movable-area, wx-cover-view { display: block; }
wx-scroll-view { overflow: auto; }
wx-text, wx-label { display: inline; }
wx-image { display: inline-block; width: 640px; height: 480px; overflow: hidden; background: #eef1f4; }
wx-icon { display: inline-block; width: 40px; height: 40px; }
/* button as app.json's "style": "v2" draws it: bold 17 pt, and 184 pt wide, centred, unless size="mini" — that rule's
   specificity (0,1,1) beats a page's single class, as in WeChat. */
wx-button { display: block; position: relative; box-sizing: border-box; margin-left: auto; margin-right: auto; padding: 16px 48px;
  text-align: center; font-size: 34px; font-weight: 700; line-height: 1.41176471; border-radius: 8px; background: #f2f2f2; color: #06ae56;
  overflow: hidden; }
wx-button::after { content: " "; position: absolute; top: 0; left: 0; right: 0; bottom: 0; box-sizing: border-box; border: 1px solid rgba(0,0,0,.2);
  border-radius: inherit; pointer-events: none; }
wx-button:not([size=mini]) { width: 368px; margin-left: auto; margin-right: auto; }
wx-button[size=mini] { display: inline-block; font-size: 32px; line-height: 2; padding: 0 .75em; width: auto; }
wx-input { display: block; height: 1.4em; min-height: 1.4em; overflow: hidden; }
wx-textarea { display: block; width: 600px; height: 300px; }
wx-switch { display: inline-block; width: 104px; height: 64px; border-radius: 32px; background: #e4e7eb; vertical-align: middle; }
wx-radio, wx-checkbox { display: inline-block; width: 44px; height: 44px; border: 2px solid #9aa5b1; border-radius: 50%; vertical-align: middle; }
wx-progress { display: block; height: 12px; background: #ebebeb; }
.mp-nav { height: 88px; padding-top: 88px; background: #0b7a75; color: #fff; text-align: center; line-height: 88px; font-size: 34px; font-weight: 600; }
.mp-nav.light { background: #f7f7f7; color: #000; }
/* The page's window: position: fixed elements (a floating button) sit in it, above the tab bar as in WeChat. */
.mp-content { min-height: calc(100vh - 176px); transform: translateZ(0); }
.mp-content.tab-page { min-height: calc(100vh - 289px); }
/* After the content (not sticky), so a full-page picture hides nothing behind it. */
.mp-tabbar { display: flex; height: 112px; background: #fff; border-top: 1px solid #ddd; }
.mp-tab { flex: 1; text-align: center; padding-top: 60px; font-size: 22px; color: #616e7c; }
.mp-tab.on { color: #0b7a75; }
`

/** Rewrite tag selectors (button → wx-button, page → the page root); classes are left to the prefix plugin. */
function tags(css) {
  return postcss([(root) => {
    root.walkRules((rule) => {
      rule.selectors = rule.selectors.map((s) => s.replace(TAG, (all, before, tag) => `${before}${tag === 'page' ? '.mp-page' : `wx-${tag}`}`))
    })
  }]).process(css, { from: undefined }).css
}

/**
 * The tags of the components under `route` that take the app's styles (styleIsolation
 * apply-shared or shared, or addGlobalClass), as WeChat applies them; the rest are isolated.
 * @param {string} file a page or component path under src/, without extension
 * @param {Set<string>} tags collected here
 */
function sharedTags(file, tags = new Set()) {
  const json = JSON.parse(fs.readFileSync(path.join(SRC, `${file}.json`), 'utf8'))
  for (const [tag, target] of Object.entries(json.usingComponents || {})) {
    const component = target.startsWith('/') ? target.slice(1) : path.join(path.dirname(file), target)
    const js = fs.readFileSync(path.join(SRC, `${component}.js`), 'utf8')
    if (/styleIsolation:\s*['"](apply-)?shared['"]|addGlobalClass:\s*true/.test(js)) tags.add(tag)
    sharedTags(component, tags)
  }
  return tags
}

/** The app's styles as they apply to a page (its classes carry the `main--` prefix) and its sharing components. */
function appCss(route) {
  const { compile } = require('miniprogram-simulate/src/wxss')
  const wxss = fs.readFileSync(path.join(SRC, 'app.wxss'), 'utf8')
  return ['main', ...sharedTags(route)].map((prefix) => tags(compile(wxss, { prefix }))).join('\n').replace(/(\d+)rpx/g, '$1px')
}

/**
 * @param {any} comp the rendered page (helpers.load)
 * @param {string} route "pages/bind/index"
 */
function pageHtml(comp, route) {
  const json = JSON.parse(fs.readFileSync(path.join(SRC, `${route}.json`), 'utf8'))
  const title = json.navigationBarTitleText || APP.window.navigationBarTitleText
  const components = [...document.head.querySelectorAll('style')].map((s) => tags(s.innerHTML)).join('\n')
  const tabPage = APP.tabBar.list.some((t) => t.pagePath === route)
  const tabs = tabPage
    ? `<div class="mp-tabbar">${APP.tabBar.list.map((t) => `<div class="mp-tab${t.pagePath === route ? ' on' : ''}">${t.text}</div>`).join('')}</div>`
    : ''
  return `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=750">
<style>${BASE}</style><style>${appCss(route)}</style><style>${components}</style></head>
<body><div class="mp-nav">${title}</div><div class="mp-page mp-content${tabPage ? ' tab-page' : ''}">${comp.dom.innerHTML}</div>${tabs}</body></html>`
}

/** Forget the styles of pages rendered before (simulate appends every load's styles to the head). */
function clearStyles() {
  document.head.querySelectorAll('style').forEach((style) => style.remove())
}

module.exports = { pageHtml, clearStyles }
