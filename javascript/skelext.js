// skelext pose editor: makes the editor SVG drawn by lib_skelext/editor_svg.py draggable.
//
// The page state lives in Python. This script only:
//  * drags `circle.skelext-joint` (with its limbs and the hand/face group that
//    follows it) and, on release, reports {action: "move", person, point, x, y}
//    in canvas pixels; a click without movement reports {action: "select", ...};
//  * writes that JSON into the hidden textbox #skelext_event and clicks the
//    hidden button #skelext_event_btn (gradio 3 and 4);
//  * in the WebUI, sends the pose to a ControlNet unit (#skelext_send_txt2img /
//    #skelext_send_img2img).
// Loaded by the WebUI from javascript/, or in standalone mode through a gradio
// load event; installing twice is harmless.
(function () {
    "use strict";
    if (window.skelextEditor) return;

    function appRoot() {
        if (typeof gradioApp === "function") {
            try { return gradioApp(); } catch (e) { /* fall through */ }
        }
        const app = document.querySelector("gradio-app");
        return (app && app.shadowRoot) || document;
    }

    function byId(id) {
        return appRoot().querySelector("#" + id) || document.getElementById(id);
    }

    function inputOf(elemId) {
        const el = byId(elemId);
        if (!el) return null;
        if (el.matches && el.matches("textarea, input")) return el;
        return el.querySelector("textarea") || el.querySelector("input");
    }

    function buttonOf(elemId) {
        const el = byId(elemId);
        if (!el) return null;
        return el.tagName === "BUTTON" ? el : (el.querySelector("button") || el);
    }

    let sequence = 0;

    function send(event) {
        const box = inputOf("skelext_event");
        const button = buttonOf("skelext_event_btn");
        if (!box || !button) {
            console.warn("skelext: editor bridge elements not found");
            return;
        }
        event.seq = ++sequence;
        box.value = JSON.stringify(event);
        // Gradio listens to `input` events; a value set from script needs one.
        box.dispatchEvent(new Event("input", { bubbles: true }));
        button.click();
    }

    function svgPoint(svg, clientX, clientY) {
        const pt = svg.createSVGPoint();
        pt.x = clientX;
        pt.y = clientY;
        const matrix = svg.getScreenCTM();
        return matrix ? pt.matrixTransform(matrix.inverse()) : pt;
    }

    let drag = null;

    function targetOf(event) {
        const path = event.composedPath ? event.composedPath() : [event.target];
        for (const node of path) {
            if (node && node.classList && node.classList.contains("skelext-joint")) return node;
        }
        return null;
    }

    function onDown(event) {
        if (event.button !== undefined && event.button !== 0) return;
        const joint = targetOf(event);
        if (!joint) return;
        const svg = joint.ownerSVGElement;
        if (!svg) return;
        event.preventDefault();
        event.stopPropagation();
        const person = joint.getAttribute("data-person");
        const point = joint.getAttribute("data-point");
        const x0 = parseFloat(joint.getAttribute("cx"));
        const y0 = parseFloat(joint.getAttribute("cy"));
        const start = svgPoint(svg, event.clientX, event.clientY);
        drag = {
            svg, joint, person: parseInt(person, 10), point: parseInt(point, 10),
            x0, y0, dx0: x0 - start.x, dy0: y0 - start.y,
            clientX: event.clientX, clientY: event.clientY, moved: false, x: x0, y: y0,
            limbsA: svg.querySelectorAll(`line.skelext-limb[data-person="${person}"][data-a="${point}"]`),
            limbsB: svg.querySelectorAll(`line.skelext-limb[data-person="${person}"][data-b="${point}"]`),
            followers: svg.querySelectorAll(`g.skelext-follow[data-person="${person}"][data-anchor="${point}"]`),
        };
        joint.classList.add("skelext-dragging");
    }

    function onMove(event) {
        if (!drag) return;
        event.preventDefault();
        if (Math.hypot(event.clientX - drag.clientX, event.clientY - drag.clientY) > 2) drag.moved = true;
        if (!drag.moved) return;
        const p = svgPoint(drag.svg, event.clientX, event.clientY);
        drag.x = p.x + drag.dx0;
        drag.y = p.y + drag.dy0;
        drag.joint.setAttribute("cx", drag.x);
        drag.joint.setAttribute("cy", drag.y);
        drag.limbsA.forEach((line) => { line.setAttribute("x1", drag.x); line.setAttribute("y1", drag.y); });
        drag.limbsB.forEach((line) => { line.setAttribute("x2", drag.x); line.setAttribute("y2", drag.y); });
        const tx = drag.x - drag.x0;
        const ty = drag.y - drag.y0;
        drag.followers.forEach((g) => g.setAttribute("transform", `translate(${tx} ${ty})`));
    }

    function onUp(event) {
        if (!drag) return;
        const d = drag;
        drag = null;
        d.joint.classList.remove("skelext-dragging");
        if (d.moved) {
            event.preventDefault();
            send({
                action: "move", person: d.person, point: d.point,
                x: Math.round(d.x * 100) / 100, y: Math.round(d.y * 100) / 100,
            });
        } else {
            send({ action: "select", person: d.person, point: d.point });
        }
    }

    // ------------------------------------------------------ send to ControlNet
    async function dataUrlToFile(url, name) {
        const response = await fetch(url);
        const blob = await response.blob();
        return new File([blob], name, { type: blob.type });
    }

    function setFiles(input, file) {
        const transfer = new DataTransfer();
        transfer.items.add(file);
        input.files = transfer.files;
        input.dispatchEvent(new Event("change", { bubbles: true }));
    }

    // Forge (dfdcbab6): its JSON-upload handler (lib_controlnet/controlnet_ui/openpose_editor.py,
    // render_pose) sets the preview canvas's hidden "background" textbox visible, which shows a large
    // box of raw "data:image/png;base64,..." text under the preview. Keep those textboxes hidden (their
    // value, which the canvas reads, is untouched).
    function hideForgeImageText(unit) {
        let tries = 0;
        const timer = setInterval(() => {
            unit.querySelectorAll(".logical_image_background, .logical_image_foreground")
                .forEach((el) => { el.style.display = "none"; });
            if (++tries >= 50) clearInterval(timer);
        }, 200);
    }

    async function sendToControlNet(tabName) {
        const root = appRoot();
        const jsonLink = root.querySelector("#skelext_downloads a.skelext-download-json");
        const pngLink = root.querySelector("#skelext_downloads a.skelext-download-png");
        if (!jsonLink || !pngLink) {
            alert("skelext: run or load a pose first");
            return;
        }
        const unitInput = inputOf("skelext_send_unit");
        const unitIndex = Math.max(0, parseInt(unitInput ? unitInput.value : "0", 10) || 0);
        const tab = root.querySelector(`#tab_${tabName}`);
        let units = tab ? tab.querySelectorAll("#controlnet .cnet-unit-tab") : [];
        // Forge (dfdcbab6): one InputAccordion per unit instead of tabs
        if (tab && !units.length) units = tab.querySelectorAll("#controlnet .input-accordion");
        if (!units.length) {
            alert(`skelext: no ControlNet units found in ${tabName} (is ControlNet installed?)`);
            return;
        }
        const unit = units[Math.min(unitIndex, units.length - 1)];
        const imageInput = unit.querySelector('.cnet-input-image-group .cnet-image input[type="file"]');
        if (imageInput) setFiles(imageInput, await dataUrlToFile(pngLink.href, "skelext_pose.png"));
        const poseInput = unit.querySelector(".cnet-upload-pose input");
        if (poseInput) setFiles(poseInput, await dataUrlToFile(jsonLink.href, "skelext_pose.json"));
        if (unit.classList.contains("input-accordion")) hideForgeImageText(unit);
        const enabled = unit.querySelector(".cnet-unit-enabled input");
        if (enabled && !enabled.checked) enabled.click();
        if (unit.classList.contains("input-accordion") && typeof window.inputAccordionChecked === "function") {
            window.inputAccordionChecked(unit.id, true);  // Forge: the accordion's own checkbox enables the unit
        }
        const switcher = window[`switch_to_${tabName}`];
        if (typeof switcher === "function") switcher();
        const nav = unit.parentNode && unit.parentNode.querySelector(".tab-nav");
        const buttons = nav ? nav.querySelectorAll("button") : [];
        if (buttons[Math.min(unitIndex, units.length - 1)]) buttons[Math.min(unitIndex, units.length - 1)].click();
    }

    function onClick(event) {
        const path = event.composedPath ? event.composedPath() : [event.target];
        for (const node of path) {
            if (!node || !node.id) continue;
            if (node.id === "skelext_send_txt2img") { sendToControlNet("txt2img"); return; }
            if (node.id === "skelext_send_img2img") { sendToControlNet("img2img"); return; }
        }
    }

    document.addEventListener("pointerdown", onDown, true);
    window.addEventListener("pointermove", onMove, true);
    window.addEventListener("pointerup", onUp, true);
    document.addEventListener("click", onClick, true);
    window.skelextEditor = { send, sendToControlNet, version: 1 };
})();
