// Frontend of seglab.quizzes.Quiz (an anywidget ES module; no build step, no imports).
//
// The browser draws and reports; Python judges. Nothing here knows an answer.
//
//   browser -> Python  model.send({type: "hello"})                          once per view
//                      model.send({type: "answer", question, value, seq})   value: a letter
//                                                                            or the typed text
//   Python -> browser  synced traits: lesson, title, status (shown until the questions come),
//                      questions [{number, text, kind: "choice" | "number", options [[k, text]]}],
//                      feedback {"<number>": {correct, text, seq}}
//
// Python sends the questions only after "hello", so a notebook executed without a browser
// saves none of them. When Python does not answer (the kernel has stopped, or the notebook
// was reopened without running it), the view says to run the cell again.

const NO_KERNEL_MS = 4000;
const NO_KERNEL_TEXT =
  "No answer from Python: the kernel is not running this quiz. Run the cell again.";

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function withCode(node, text) {
  // `backticks` become <code>, *stars* <em>; the rest stays text (never parsed as HTML)
  text.split("`").forEach((part, i) => {
    if (!part) return;
    if (i % 2) {
      node.appendChild(element("code", "", part));
      return;
    }
    part.split(/\*([^*\s][^*]*)\*/).forEach((piece, j) => {
      if (piece) node.appendChild(j % 2 ? element("em", "", piece) : document.createTextNode(piece));
    });
  });
  return node;
}

function render({ model, el }) {
  const root = element("div", "seglab-quiz");
  el.appendChild(root);
  const heading = element("div", "seglab-quiz-title");
  const status = element("div", "seglab-quiz-status");
  const list = element("ol", "seglab-quiz-questions");
  root.append(heading, status, list);

  let seq = 0;
  const pending = new Map(); // question number -> timer waiting for Python's reply
  const views = new Map(); // question number -> {feedback, buttons}

  function ask(number, value, button) {
    seq += 1;
    const view = views.get(number);
    for (const b of view.buttons) b.classList.toggle("seglab-quiz-picked", b === button);
    view.feedback.className = "seglab-quiz-feedback seglab-quiz-waiting";
    view.feedback.textContent = "checking…";
    clearTimeout(pending.get(number));
    pending.set(
      number,
      setTimeout(() => {
        view.feedback.className = "seglab-quiz-feedback seglab-quiz-wrong";
        view.feedback.textContent = NO_KERNEL_TEXT;
        root.dataset.dead = "true";
      }, NO_KERNEL_MS),
    );
    model.send({ type: "answer", question: number, value, seq });
  }

  function drawQuestions() {
    heading.textContent = `Quick Quiz · lesson ${model.get("lesson")}: ${model.get("title")}`;
    const questions = model.get("questions");
    status.textContent = questions.length ? "" : model.get("status");
    list.replaceChildren();
    views.clear();
    for (const q of questions) {
      const item = element("li", "seglab-quiz-question");
      item.dataset.question = String(q.number);
      item.appendChild(withCode(element("div", "seglab-quiz-text"), q.text));
      const answers = element("div", `seglab-quiz-answers seglab-quiz-${q.kind}`);
      const buttons = [];
      if (q.kind === "choice") {
        for (const [letter, text] of q.options) {
          const button = withCode(element("button", "seglab-quiz-option"), `${letter}) ${text}`);
          button.dataset.option = letter;
          button.addEventListener("click", () => ask(q.number, letter, button));
          buttons.push(button);
          answers.appendChild(button);
        }
      } else {
        const input = element("input", "seglab-quiz-input");
        input.type = "text";
        input.inputMode = "decimal";
        input.placeholder = "a number";
        const check = element("button", "seglab-quiz-check", "check");
        const submit = () => ask(q.number, input.value, check);
        check.addEventListener("click", submit);
        input.addEventListener("keydown", (event) => {
          event.stopPropagation(); // typing a digit must not trigger JupyterLab's shortcuts
          if (event.key === "Enter") submit();
        });
        buttons.push(check);
        answers.append(input, check);
      }
      const feedback = element("div", "seglab-quiz-feedback");
      item.append(answers, feedback);
      list.appendChild(item);
      views.set(q.number, { feedback, buttons });
    }
    drawFeedback();
  }

  function drawFeedback() {
    const all = model.get("feedback");
    for (const [key, reply] of Object.entries(all)) {
      const number = Number(key);
      const view = views.get(number);
      if (!view) continue;
      clearTimeout(pending.get(number));
      pending.delete(number);
      const kind = reply.correct ? "seglab-quiz-right" : "seglab-quiz-wrong";
      view.feedback.className = `seglab-quiz-feedback ${kind}`;
      view.feedback.replaceChildren();
      withCode(view.feedback, reply.text);
    }
  }

  const onQuestions = () => drawQuestions();
  const onFeedback = () => drawFeedback();
  model.on("change:questions", onQuestions);
  model.on("change:feedback", onFeedback);
  drawQuestions();

  // ask Python for the questions; if it never answers, the kernel is gone
  const hello = setTimeout(() => {
    if (!model.get("questions").length) {
      status.textContent = NO_KERNEL_TEXT;
      root.dataset.dead = "true";
    }
  }, NO_KERNEL_MS);
  model.send({ type: "hello" });

  return () => {
    clearTimeout(hello);
    for (const timer of pending.values()) clearTimeout(timer);
    model.off("change:questions", onQuestions);
    model.off("change:feedback", onFeedback);
  };
}

export default { render };
