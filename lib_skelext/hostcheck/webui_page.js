// check-host --browser: drives a running WebUI page in headless Chromium (playwright-core).
//
//   SKELEXT_URL=http://127.0.0.1:7860 SKELEXT_PHOTO=photo.png SKELEXT_SHOTS=dir node webui_page.js
//
// Checks, each independent (one failure does not stop the others):
//   1. the page loads (txt2img tab);
//   2. the ControlNet panel lists "dwpose_full (openpose completed)" and shows its sliders
//      (the preprocessor is picked directly: Control Type -> OpenPose raises inside ControlNet
//      when no checkpoint is loaded);
//   3. the preview (Allow Preview + run preprocessor) draws the skeleton; its pose JSON
//      (the JSON link's data: URL) has legs and lists completed points; Edit/JSON shown;
//   4. the skelext tab: upload, Run (DWPose), completed points drawn; "Send to txt2img
//      ControlNet" fills unit 0's image and enables the unit;
//   5. Settings has the skelext section.
// Prints one JSON line: {"checks": [{name, passed, detail}], "screenshots": [...]}.
"use strict";

const fs = require("fs");
const path = require("path");
const { chromium } = require("playwright-core");

const URL = process.env.SKELEXT_URL;
const PHOTO = process.env.SKELEXT_PHOTO;
const SHOTS = path.resolve(process.env.SKELEXT_SHOTS || "check-host-screenshots");
const CHROMIUM = process.env.SKELEXT_CHROMIUM || "/usr/bin/chromium";
const TIMEOUT = parseInt(process.env.SKELEXT_TIMEOUT_MS || "120000", 10);
const LABEL = "dwpose_full (openpose completed)";
const LEGS = [9, 10, 12, 13];
const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-quic", "--disable-sync"];

const out = { checks: [], screenshots: [] };
const add = (name, passed, detail) => out.checks.push({ name, passed: !!passed, detail: detail || "" });

async function shot(page, name, what) {
    const file = path.join(SHOTS, name);
    try {
        await page.screenshot({ path: file, fullPage: false });
        out.screenshots.push({ file, what });
    } catch (e) { /* a failed screenshot is not a failed check */ }
}

async function step(name, fn) {
    try {
        const [passed, detail] = await fn();
        add(name, passed, detail);
    } catch (e) {
        add(name, false, String(e && e.message ? e.message : e).split("\n")[0].slice(0, 300));
    }
}

function unitOf(page, tab) {
    // the first ControlNet unit of a tab: the group holding its input image
    return page.locator(`#tab_${tab} [id$="_controlnet_preprocessor_dropdown"]`).first()
        .locator("xpath=ancestor::*[contains(@class,'cnet-unit-tab') or contains(@id,'ControlNet-0')][1]");
}

async function openControlNet(page, tab) {
    const acc = page.locator(`#${tab}_controlnet, #${tab}_script_container #controlnet`).first();
    const dropdown = page.locator(`#tab_${tab} [id$="_controlnet_preprocessor_dropdown"]`).first();
    if (!(await dropdown.isVisible().catch(() => false))) {
        await acc.locator(".label-wrap").first().click();
        await dropdown.waitFor({ state: "visible", timeout: 15000 });
    }
    return dropdown;
}

async function choose(page, dropdown, value) {
    const input = dropdown.locator("input").first();
    await input.click();
    await input.fill(value.slice(0, 11));
    // gradio 3 (A1111): li[data-value]; gradio 4 (Forge): li[role=option][aria-label]
    const option = page.locator(`ul.options li[data-value="${value}"], ul.options li[aria-label="${value}"]`).first();
    await option.waitFor({ state: "visible", timeout: 10000 });
    await option.click();
    await page.waitForTimeout(800);
    return input.inputValue();
}

async function sliderLabel(page, tab, suffix) {
    const slider = page.locator(`#tab_${tab} [id$="_controlnet_${suffix}"]`).first();
    if (!(await slider.isVisible().catch(() => false))) return null;
    return (await slider.innerText()).split("\n")[0].trim();
}

// The unit-0 preview's image source: A1111's gr.Image <img>, Forge's ForgeCanvas background value.
function previewSource() {
    const block = document.querySelector('#tab_txt2img [id$="_generated_image"]');
    if (!block) return null;
    const img = block.querySelector("img");
    const forge = block.querySelector(".forge-container");
    if (forge) {
        const uuid = forge.id.replace(/^container_/, "");
        const box = document.querySelector(`[id="${uuid}"].logical_image_background textarea`);
        return box && box.value ? box.value : null;
    }
    return img && img.src ? img.src : null;
}

// Non-black pixels of an image URL (drawn at its natural size).
async function litPixels(url) {
    if (!url) return 0;
    const img = new Image();
    img.src = url;
    await img.decode();
    const c = document.createElement("canvas");
    c.width = img.naturalWidth; c.height = img.naturalHeight;
    const g = c.getContext("2d"); g.drawImage(img, 0, 0);
    const d = g.getImageData(0, 0, c.width, c.height).data;
    let lit = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i] + d[i + 1] + d[i + 2] > 0) lit++;
    return lit;
}

async function main() {
    fs.mkdirSync(SHOTS, { recursive: true });
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS, headless: true });
    const page = await browser.newPage({ viewport: { width: 1500, height: 1100 } });
    page.setDefaultTimeout(TIMEOUT);
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e.message || e).split("\n")[0]));

    await step("page loads", async () => {
        await page.goto(URL, { waitUntil: "domcontentloaded" });
        await page.locator("#tab_txt2img").first().waitFor({ state: "attached", timeout: TIMEOUT });
        await page.locator("#txt2img_prompt textarea, #txt2img_prompt").first().waitFor({ timeout: TIMEOUT });
        await shot(page, "01_txt2img.png", "the txt2img tab as loaded");
        return [true, await page.title()];
    });

    let picked = false;
    await step("ControlNet panel lists the preprocessor with its sliders", async () => {
        const dropdown = await openControlNet(page, "txt2img");
        const value = await choose(page, dropdown, LABEL);
        picked = value === LABEL;
        const res = await sliderLabel(page, "txt2img", "preprocessor_resolution_slider");
        const a = await sliderLabel(page, "txt2img", "threshold_A_slider");
        const b = await sliderLabel(page, "txt2img", "threshold_B_slider");
        await dropdown.scrollIntoViewIfNeeded();
        await shot(page, "02_controlnet_preprocessor.png", "ControlNet unit 0 with dwpose_full picked: sliders");
        const ok = picked && res && a && /canvas/i.test(a) && b && /threshold/i.test(b);
        return [ok, `picked ${JSON.stringify(value)}; sliders: ${res} | ${a} | ${b}`];
    });

    await step("ControlNet preview draws a completed skeleton, Edit/JSON shown", async () => {
        if (!picked) return [false, "the preprocessor could not be picked"];
        const tab = page.locator("#tab_txt2img");
        const imageInput = tab.locator('.cnet-input-image-group .cnet-image input[type="file"]').first();
        await imageInput.setInputFiles(PHOTO);
        await page.waitForTimeout(1500);
        const preview = tab.locator('[id$="_controlnet_preprocessor_preview_checkbox"] input').first();
        if (!(await preview.isChecked())) await preview.click();
        await tab.locator('[id$="_controlnet_trigger_preprocessor"]').first().click();
        const link = tab.locator(".cnet-download-pose a").first();
        await link.waitFor({ state: "visible", timeout: TIMEOUT });
        const generated = tab.locator(".cnet-generated-image-group img").first();
        await generated.waitFor({ state: "visible", timeout: TIMEOUT });
        const href = await link.getAttribute("href");
        const edit = await tab.locator(".cnet-edit-pose").first().isVisible();
        const json = await page.evaluate(async (url) => (await fetch(url)).text(), href);
        const pose = JSON.parse(json);
        const people = pose.people || [];
        const legs = people.filter((p) => LEGS.every((i) => (p.pose_keypoints_2d || [])[3 * i + 2] > 0)).length;
        const completed = people.reduce((n, p) => n + (((p.skelext || {}).completed) || []).length, 0);
        const drawn = await generated.evaluate((img) => {
            const c = document.createElement("canvas");
            c.width = img.naturalWidth; c.height = img.naturalHeight;
            const g = c.getContext("2d"); g.drawImage(img, 0, 0);
            const d = g.getImageData(0, 0, c.width, c.height).data;
            let lit = 0;
            for (let i = 0; i < d.length; i += 4) if (d[i] + d[i + 1] + d[i + 2] > 60) lit++;
            return lit / (c.width * c.height);
        });
        await generated.scrollIntoViewIfNeeded();
        await shot(page, "03_controlnet_preview.png", "ControlNet preview: the completed skeleton, Edit and JSON");
        const ok = people.length > 0 && legs === people.length && completed > 0 && edit && drawn > 0.002;
        return [ok, `${people.length} people, legs on ${legs}, ${completed} points completed, ` +
            `${(drawn * 100).toFixed(1)}% of the preview drawn, Edit ${edit ? "shown" : "MISSING"}, JSON link shown`];
    });

    await step("skelext tab runs and Send to ControlNet fills a unit; ControlNet's preview draws the pose", async () => {
        await page.locator("#tabs > .tab-nav button").filter({ hasText: /^\s*skelext\s*$/ }).first().click();
        await page.locator("#skelext_photo").first().waitFor({ state: "visible", timeout: 15000 });
        await page.locator('#skelext_photo input[type="file"]').first().setInputFiles(PHOTO);
        await page.waitForTimeout(1500);
        // canvas expand: the sent pose (512 wide, taller, legs below the photo) differs from the preview of
        // the check above, so ControlNet's preview must change to show it
        await page.locator("#skelext_canvas_mode label").filter({ hasText: /^\s*expand\s*$/ }).first().click();
        await page.waitForTimeout(500);
        await page.locator("#skelext_run").first().click();
        await page.locator("#skelext_editor circle.skelext-completed").first()
            .waitFor({ state: "attached", timeout: TIMEOUT });
        const completed = await page.locator("#skelext_editor circle.skelext-completed").count();
        const status = (await page.locator("#skelext_status").first().innerText()).trim();
        await shot(page, "04_skelext_tab.png", "the skelext tab after Run: completed points as rings");
        const img = page.locator("#tab_txt2img .cnet-input-image-group .cnet-image img").first();
        // the unit may already hold the photo of the preview check: the pose must replace it
        const before = await img.getAttribute("src", { timeout: 1000 }).catch(() => null);
        const previewBefore = await page.evaluate(previewSource).catch(() => null);
        const ourPng = await page.locator("#skelext_downloads a.skelext-download-png").first().getAttribute("href");
        await page.locator("#skelext_send_txt2img").first().click();
        let filled = false;
        for (let i = 0; i < 60 && !filled; i++) {
            await page.waitForTimeout(250);
            filled = await img.evaluate((n, old) => !!n.src && n.src !== old && n.naturalWidth > 0, before)
                .catch(() => false);
        }
        const enabled = await page.evaluate(() => {
            const root = document.querySelector("#tab_txt2img #controlnet");
            const forge = root && root.querySelector(".input-accordion");  // Forge: the unit's accordion checkbox
            if (forge) {
                const box = document.querySelector(`#${forge.id}-checkbox input`);
                return !!(box && box.checked);
            }
            const box = root && root.querySelector(".cnet-unit-enabled input");
            return !!(box && box.checked);
        }).catch(() => false);
        // ControlNet renders the uploaded JSON with its own reader (decode_json_as_poses drops c < 1.0)
        // into the unit's preview and uses that preview as the unit's input: it must draw our skeleton
        let preview = null;
        for (let i = 0; i < 60; i++) {
            await page.waitForTimeout(250);
            preview = await page.evaluate(previewSource).catch(() => null);
            if (preview && preview !== previewBefore) break;
        }
        const [previewLit, oursLit] = [await page.evaluate(litPixels, preview), await page.evaluate(litPixels, ourPng)];
        const rawText = await page.evaluate(() => [...document.querySelectorAll("#tab_txt2img #controlnet textarea")]
            .filter((t) => t.offsetParent !== null && (t.value || "").startsWith("data:image")).length);
        await page.locator('#tab_txt2img [id$="_generated_image"]').first().scrollIntoViewIfNeeded().catch(() => {});
        await shot(page, "05_sent_to_controlnet.png", "txt2img ControlNet unit 0 after Send to txt2img ControlNet");
        const drawn = preview && preview !== previewBefore && previewLit > 0 && Math.abs(previewLit - oursLit) <= 0.02 * oursLit;
        return [completed > 0 && filled && enabled && drawn && rawText === 0,
            `${status}; ${completed} completed points drawn; unit 0 image ${filled ? "replaced by the pose" : "NOT replaced"}, ` +
            `unit ${enabled ? "enabled" : "NOT enabled"}; ControlNet's preview of the sent pose lights ${previewLit} px ` +
            `(skelext's control image ${oursLit} px)${preview && preview !== previewBefore ? "" : " (preview NOT updated)"}; ` +
            `${rawText} visible base64 text boxes`];
    });

    await step("Settings has the skelext section", async () => {
        await page.locator("#tabs > .tab-nav button").filter({ hasText: /^\s*Settings\s*$/ }).first().click();
        const entry = page.locator("#settings > .tab-nav button").filter({ hasText: /^\s*skelext\s*$/ }).first();
        await entry.click();
        const canvas = page.locator("#setting_skelext_canvas_mode").first();
        await canvas.waitFor({ state: "visible", timeout: 15000 });
        const count = await page.locator('[id^="setting_skelext_"]').count();
        await canvas.scrollIntoViewIfNeeded();
        await page.evaluate(() => window.scrollBy(0, -120));
        await shot(page, "06_settings.png", "Settings -> skelext section");
        return [count >= 5, `${count} skelext settings shown`];
    });

    out.page_errors = errors.slice(0, 5);
    await browser.close();
}

main().then(() => {
    process.stdout.write(JSON.stringify(out) + "\n");
}).catch((e) => {
    add("browser", false, String(e && e.message ? e.message : e).split("\n")[0]);
    process.stdout.write(JSON.stringify(out) + "\n");
    process.exit(1);
});
