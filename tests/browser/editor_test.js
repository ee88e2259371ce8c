// Drives the standalone skelext UI in headless Debian Chromium (playwright-core, no browser download).
//
//   SKELEXT_URL=http://127.0.0.1:7861 SKELEXT_POSE=examples/waist_up.json \
//   SKELEXT_SHOTS=artifacts/browser/3.41.2 node tests/browser/editor_test.js
//
// Loads a waist-up pose JSON, checks that completed legs are drawn, drags a
// knee, re-completes, downloads the JSON and the PNG, undoes and redoes, picks an
// alternative, hides/locks points, expands the canvas and sends the pose to a
// stand-in ControlNet unit. With SKELEXT_PHOTO set it instead uploads that photo,
// detects with BlazePose and checks the completed skeleton (06_photo.png). With
// SKELEXT_WEBUI_MODE=1 the page is the on_ui_tabs() Blocks and the script and
// stylesheet are injected the way the WebUI injects them.
// Prints one JSON object (the last stdout line) for tests/test_browser.py to
// assert on; exits 1 with {"ok": false, "error": ...} when a step fails.
"use strict";

const fs = require("fs");
const path = require("path");
const { chromium } = require("playwright-core");

const URL = process.env.SKELEXT_URL || "http://127.0.0.1:7861";
const POSE = path.resolve(process.env.SKELEXT_POSE || "examples/waist_up.json");
const SHOTS = path.resolve(process.env.SKELEXT_SHOTS || "artifacts/browser/unknown");
const CHROMIUM = process.env.SKELEXT_CHROMIUM || "/usr/bin/chromium";
const REPO = path.resolve(__dirname, "..", "..");
// WebUI mode: the server built the tab as on_ui_tabs() does (no script or stylesheet of its own).
const WEBUI_MODE = process.env.SKELEXT_WEBUI_MODE === "1";
const STEP_TIMEOUT_MS = parseInt(process.env.SKELEXT_STEP_TIMEOUT_MS || "30000", 10);
const CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-quic", "--disable-sync",
];

const result = { ok: false, url: URL, steps: [], console_errors: [], screenshots: [] };

function step(name, extra) {
    result.steps.push(name);
    if (extra) Object.assign(result, extra);
    process.stderr.write(`[browser] ${name}\n`);
}

async function sleep(ms) {
    return new Promise((resolve) => setTimeout(resolve, ms));
}

async function revision(page) {
    const wrap = page.locator("#skelext_editor .skelext-editor-wrap").first();
    return (await wrap.count()) ? await wrap.getAttribute("data-rev") : null;
}

async function waitForNewRevision(page, old, what) {
    const deadline = Date.now() + STEP_TIMEOUT_MS;
    while (Date.now() < deadline) {
        const rev = await revision(page);
        if (rev !== null && rev !== old && rev !== "0") {
            await sleep(150); // let the other outputs settle
            return rev;
        }
        await sleep(100);
    }
    throw new Error(`timed out waiting for the editor to update after ${what}`);
}

async function joints(page) {
    return page.locator("#skelext_editor circle.skelext-joint").evaluateAll((nodes) => nodes.map((n) => ({
        person: parseInt(n.getAttribute("data-person"), 10),
        point: parseInt(n.getAttribute("data-point"), 10),
        x: parseFloat(n.getAttribute("data-x")),
        y: parseFloat(n.getAttribute("data-y")),
        kind: ["detected", "completed", "lowconf", "edited", "hidden"].find(
            (k) => n.classList.contains(`skelext-${k}`)) || "unknown",
        locked: n.classList.contains("skelext-locked"),
    })));
}

function find(list, point) {
    return list.find((j) => j.person === 0 && j.point === point) || null;
}

async function shot(page, name) {
    const file = path.join(SHOTS, name);
    await page.screenshot({ path: file, fullPage: true });
    result.screenshots.push(file);
}

async function clickAndWait(page, selector, what) {
    const old = await revision(page);
    await page.locator(selector).first().click();
    return waitForNewRevision(page, old, what);
}

async function download(page, selector, target) {
    const link = page.locator(selector).first();
    try {
        const [dl] = await Promise.all([
            page.waitForEvent("download", { timeout: 10000 }),
            link.click(),
        ]);
        await dl.saveAs(target);
    } catch (err) {
        // Fallback: decode the link's data: URL ourselves.
        const href = await link.getAttribute("href");
        const comma = href.indexOf(",");
        fs.writeFileSync(target, Buffer.from(href.slice(comma + 1), "base64"));
        result.download_fallback = String(err && err.message || err).split("\n")[0];
    }
    return target;
}

// Photo mode: upload a photo, detect with BlazePose (offline), run, check the completed skeleton.
async function photoFlow(page) {
    const photo = path.resolve(process.env.SKELEXT_PHOTO);
    await page.locator("#skelext_photo input[type=file]").first().setInputFiles(photo);
    await page.locator("#skelext_photo img").first().waitFor({ state: "attached" });
    step("photo uploaded");
    const detector = page.locator("#skelext_detector");
    if (await detector.locator("select").count()) {
        await detector.locator("select").selectOption("blazepose");
    } else {
        await chooseFromDropdown(page, "skelext_detector", "blazepose");
    }
    step("blazepose chosen");
    const rev = await revision(page);
    await page.locator("#skelext_run").first().click();
    await waitForNewRevision(page, rev, "running detection on the photo");
    const found = await joints(page);
    step("photo run", {
        photo_joints: found.length,
        photo_kinds: found.map((j) => j.kind),
        photo_status: (await page.locator("#skelext_status").first().innerText()).trim(),
        photo_has_image: await page.locator("#skelext_editor svg image").count(),
    });
    await shot(page, "06_photo.png");
}

async function chooseFromDropdown(page, elemId, text) {
    await page.locator(`#${elemId} input`).first().click();
    await page.locator(`#${elemId} ul.options li, #${elemId} ul[role=listbox] li`).filter({ hasText: text })
        .first().click();
}

async function main() {
    fs.mkdirSync(SHOTS, { recursive: true });
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS, headless: true });
    try {
        const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1400, height: 1100 } });
        if (WEBUI_MODE) {
            // As the WebUI does: javascript/*.js in the page head before gradio renders, style.css after.
            await context.addInitScript({ path: path.join(REPO, "javascript", "skelext.js") });
        }
        const page = await context.newPage();
        page.setDefaultTimeout(STEP_TIMEOUT_MS);
        page.on("pageerror", (err) => result.console_errors.push(String(err && err.message || err)));
        page.on("console", (msg) => {
            if (msg.type() === "error") result.console_errors.push(msg.text());
        });

        await page.goto(URL, { waitUntil: "domcontentloaded" });
        if (WEBUI_MODE) await page.addStyleTag({ path: path.join(REPO, "style.css") });
        result.webui_mode = WEBUI_MODE;
        await page.locator("#skelext_pose_file").first().waitFor({ state: "attached" });
        await page.waitForFunction(() => !!window.skelextEditor, null, { timeout: STEP_TIMEOUT_MS });
        step("page loaded");

        if (process.env.SKELEXT_PHOTO) {
            await photoFlow(page);
            result.ok = true;
            return;
        }

        // 1. Load the waist-up pose JSON.
        const before = await revision(page);
        await page.locator("#skelext_pose_file input[type=file]").first().setInputFiles(POSE);
        await waitForNewRevision(page, before, "loading the pose JSON");
        await page.locator("#skelext_editor circle.skelext-joint").first().waitFor();
        const loaded = await joints(page);
        step("pose loaded", { loaded_joints: loaded });
        await shot(page, "01_loaded.png");

        // 2. Completed legs are drawn: knees and ankles as completed points.
        const legs = [9, 10, 12, 13].map((i) => find(loaded, i));
        result.completed_legs = legs.filter((j) => j && (j.kind === "completed" || j.kind === "lowconf"))
            .map((j) => j.point);
        result.completed_limbs = await page.locator("#skelext_editor line.skelext-limb-completed").count();

        // 2b. Pick the model's second alternative of the waist-up legs, then the best one again: the
        // completed legs change and come back, the detected points never move.
        await clickAndWait(page, "#skelext_alternative label:has-text('#2')", "choosing alternative #2");
        const second = await joints(page);
        await clickAndWait(page, "#skelext_alternative label:has-text('#1')", "choosing alternative #1 again");
        const first = await joints(page);
        step("alternative chosen", { joints_alternative_2: second, joints_alternative_1: first });

        // 3. Drag the right knee (point 9) to the side.
        const kneeIndex = find(loaded, 9) ? 9 : 12;
        const ankleIndex = kneeIndex === 9 ? 10 : 13;
        const knee = page.locator(`#skelext_editor circle.skelext-joint[data-person="0"][data-point="${kneeIndex}"]`);
        await knee.scrollIntoViewIfNeeded();
        const box = await knee.boundingBox();
        const cx = box.x + box.width / 2;
        const cy = box.y + box.height / 2;
        const dragPx = { dx: -70, dy: -20 };
        const revBeforeDrag = await revision(page);
        await page.mouse.move(cx, cy);
        await page.mouse.down();
        for (let k = 1; k <= 10; k++) {
            await page.mouse.move(cx + (dragPx.dx * k) / 10, cy + (dragPx.dy * k) / 10);
            await sleep(20);
        }
        await page.mouse.up();
        await waitForNewRevision(page, revBeforeDrag, "dragging the knee");
        const dragged = await joints(page);
        step("knee dragged", {
            knee_index: kneeIndex, ankle_index: ankleIndex, drag_screen_px: dragPx,
            knee_before: find(loaded, kneeIndex), knee_after: find(dragged, kneeIndex),
            ankle_before: find(loaded, ankleIndex), ankle_after_drag: find(dragged, ankleIndex),
        });
        await shot(page, "02_knee_dragged.png");

        // 4. Re-complete: the model re-runs with the edited knee as fixed input.
        await clickAndWait(page, "#skelext_recomplete", "re-completing");
        const recompleted = await joints(page);
        step("re-completed", {
            knee_after_recomplete: find(recompleted, kneeIndex),
            ankle_after_recomplete: find(recompleted, ankleIndex),
        });
        await shot(page, "03_recompleted.png");

        // 5. Download the JSON and the PNG.
        const jsonFile = await download(page, "#skelext_downloads a.skelext-download-json",
            path.join(SHOTS, "downloaded_pose.json"));
        const pngFile = await download(page, "#skelext_downloads a.skelext-download-png",
            path.join(SHOTS, "downloaded_pose.png"));
        const doc = JSON.parse(fs.readFileSync(jsonFile, "utf-8"));
        const body = doc.people[0].pose_keypoints_2d;
        step("downloaded", {
            download_json: jsonFile, download_png: pngFile,
            download_png_bytes: fs.statSync(pngFile).size,
            json_canvas: [doc.canvas_width, doc.canvas_height],
            json_knee: body.slice(kneeIndex * 3, kneeIndex * 3 + 3),
            json_ankle: body.slice(ankleIndex * 3, ankleIndex * 3 + 3),
            json_skelext: doc.people[0].skelext || null,
        });

        // 6. Undo restores the ankle from before re-completion; redo brings the new one back.
        await clickAndWait(page, "#skelext_undo", "undo");
        const undone = await joints(page);
        await clickAndWait(page, "#skelext_redo", "redo");
        const redone = await joints(page);
        step("undo/redo", { ankle_after_undo: find(undone, ankleIndex), ankle_after_redo: find(redone, ankleIndex) });
        await shot(page, "04_after_redo.png");

        // 7. Undo once more (back to the dragged knee, before re-completion, where the model's alternatives of
        // the waist-up legs still stand) and pick alternative #2: the completed ankle changes, the edited knee stays.
        await clickAndWait(page, "#skelext_undo", "undo to the dragged knee");
        await clickAndWait(page, "#skelext_alternative label:has-text('#2')", "choosing alternative #2 after the edit");
        const alternative = await joints(page);
        step("alternative chosen after the edit", {
            knee_after_alternative: find(alternative, kneeIndex),
            ankle_after_alternative: find(alternative, ankleIndex),
        });

        // 8. Hide and show the selected (dragged) knee; select the other knee by clicking it and lock it.
        await clickAndWait(page, "#skelext_hide", "hiding the knee");
        const hiddenKnee = find(await joints(page), kneeIndex);
        await clickAndWait(page, "#skelext_hide", "showing the knee");
        const shownKnee = find(await joints(page), kneeIndex);
        const otherKnee = kneeIndex === 9 ? 12 : 9;
        await clickAndWait(page, `#skelext_editor circle.skelext-joint[data-person="0"][data-point="${otherKnee}"]`,
            "selecting the other knee");
        const selected = await page.locator("#skelext_editor circle.skelext-selected").evaluateAll(
            (nodes) => nodes.map((n) => parseInt(n.getAttribute("data-point"), 10)));
        await clickAndWait(page, "#skelext_lock", "locking the other knee");
        const locked = find(await joints(page), otherKnee);
        let rev = await revision(page);
        await chooseFromDropdown(page, "skelext_point", "13: left ankle");
        await waitForNewRevision(page, rev, "choosing a point in the list");
        const listSelected = await page.locator("#skelext_editor circle.skelext-selected").evaluateAll(
            (nodes) => nodes.map((n) => parseInt(n.getAttribute("data-point"), 10)));
        step("hide/show/select/lock", {
            hidden_knee_kind: hiddenKnee && hiddenKnee.kind, shown_knee_kind: shownKnee && shownKnee.kind,
            selected_after_click: selected, other_knee_locked: locked && locked.locked,
            selected_from_list: listSelected,
        });

        // 9. Canvas mode "expand" grows the canvas to hold the completed legs.
        await clickAndWait(page, "#skelext_canvas_mode label:has-text('expand')", "switching to expand");
        const svg = page.locator("#skelext_editor svg.skelext-svg").first();
        result.expand_canvas = [parseInt(await svg.getAttribute("data-canvas-width"), 10),
            parseInt(await svg.getAttribute("data-canvas-height"), 10)];
        step("canvas expanded");
        await shot(page, "05_expanded_locked.png");

        // 10. "Send to ControlNet" against a stand-in of ControlNet's unit markup (the real one lives in the
        // WebUI): the unit's image and pose-JSON file inputs get the PNG and the JSON, the unit is enabled.
        await page.evaluate(() => {
            const fake = document.createElement("div");
            fake.id = "tab_txt2img";
            fake.innerHTML = '<div id="controlnet"><div class="tabs"><div class="tab-nav"><button>0</button>' +
                "<button>1</button></div>" + [0, 1].map((i) => '<div class="cnet-unit-tab" data-unit="' + i + '">' +
                '<div class="cnet-input-image-group"><div class="cnet-image"><input type="file"></div></div>' +
                '<div class="cnet-upload-pose"><input type="file"></div>' +
                '<label class="cnet-unit-enabled"><input type="checkbox"></label></div>').join("") + "</div></div>";
            document.body.appendChild(fake);
            window.__skelextChanges = [];
            fake.addEventListener("change", (e) => window.__skelextChanges.push(
                e.target.files ? e.target.files[0].name : "checkbox"), true);
        });
        if (WEBUI_MODE) {
            await page.locator("#skelext_send_txt2img").first().click();  // the real button, visible in the WebUI
        } else {
            await page.evaluate(() => window.skelextEditor.sendToControlNet("txt2img"));
        }
        for (let k = 0; k < 50; k++) {
            if (await page.evaluate(() => (window.__skelextChanges || []).length >= 3)) break;
            await sleep(100);
        }
        result.controlnet = await page.evaluate(async () => {
            const unit = document.querySelector('#tab_txt2img .cnet-unit-tab[data-unit="0"]');
            const image = unit.querySelector(".cnet-image input").files[0];
            const pose = unit.querySelector(".cnet-upload-pose input").files[0];
            const other = document.querySelector('#tab_txt2img .cnet-unit-tab[data-unit="1"] .cnet-image input');
            return {
                image: image && { name: image.name, type: image.type, size: image.size },
                pose: pose && { name: pose.name, type: pose.type, text: await pose.text() },
                enabled: unit.querySelector(".cnet-unit-enabled input").checked,
                other_unit_files: other.files.length,
                changes: window.__skelextChanges,
            };
        });
        await page.evaluate(() => document.getElementById("tab_txt2img").remove());
        step("sent to a stand-in ControlNet unit");

        // 11. The page settles: no event keeps re-rendering the editor by itself.
        const settledRev = await revision(page);
        await sleep(2000);
        result.idle_stable = (await revision(page)) === settledRev;
        result.status_text = (await page.locator("#skelext_status").first().innerText()).trim();
        result.ok = true;
    } finally {
        await browser.close();
    }
}

main().then(() => {
    process.stdout.write(JSON.stringify(result) + "\n");
}).catch((err) => {
    result.error = String(err && err.stack || err);
    process.stdout.write(JSON.stringify(result) + "\n");
    process.exit(1);
});
