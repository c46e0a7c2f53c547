/* prompt.c: the one-line editor of the last row.  getch gives UTF-8
 * one byte at a time: bytes accumulate as typed, and Backspace removes
 * a whole character (its continuation bytes with it). */
#include "view.h"

#include <curses.h>
#include <stdio.h>
#include <string.h>

enum {
	KEY_CTRL_U = 0x15,
	KEY_ESCAPE = 0x1b,
	KEY_DEL = 0x7f,
	KEY_CTRL_H = 0x08,
};

void ui_prompt_open(struct ui *ui, enum ui_ask ask, const char *label,
                    const char *initial)
{
	struct ui_prompt *p = &ui->prompt;

	p->ask = ask;
	snprintf(p->label, sizeof(p->label), "%s", label);
	snprintf(p->text, sizeof(p->text), "%s", initial ? initial : "");
	p->len = strlen(p->text);
	ui_dirty(ui);
}

static void erase_char(struct ui_prompt *p)
{
	if (p->len == 0)
		return;
	do
		p->len--;
	while (p->len > 0 && ((unsigned char)p->text[p->len] & 0xc0) == 0x80);
	p->text[p->len] = '\0';
}

/* Bytes of the UTF-8 sequence lead starts (0: not a lead byte). */
static size_t utf8_need(unsigned char lead)
{
	return lead < 0x80    ? 1
	       : lead >= 0xf0 ? 4
	       : lead >= 0xe0 ? 3
	       : lead >= 0xc0 ? 2
	                      : 0;
}

/* A character goes in whole or not at all: a lead byte only with room
 * for its sequence, a continuation byte only when the last character
 * still waits for one (a full line cut no character in two). */
static bool byte_fits(const struct ui_prompt *p, unsigned char c)
{
	size_t lead = p->len;

	if ((c & 0xc0) != 0x80)
		return p->len + utf8_need(c) < sizeof(p->text);
	while (lead > 0 && ((unsigned char)p->text[lead - 1] & 0xc0) == 0x80)
		lead--;
	if (lead == 0)
		return false;
	lead--;
	return p->len - lead < utf8_need((unsigned char)p->text[lead]);
}

static void insert_byte(struct ui_prompt *p, int key)
{
	if (!byte_fits(p, (unsigned char)key))
		return;
	p->text[p->len++] = (char)key;
	p->text[p->len] = '\0';
}

static bool end_prompt(struct ui *ui, bool *accepted, bool accept)
{
	ui->prompt.ask = UI_ASK_NONE;
	*accepted = accept;
	ui_dirty(ui);
	return true;
}

bool ui_prompt_key(struct ui *ui, int key, bool *accepted)
{
	struct ui_prompt *p = &ui->prompt;

	*accepted = false;
	switch (key) {
	case '\n':
	case '\r':
	case KEY_ENTER:
		return end_prompt(ui, accepted, true);
	case KEY_ESCAPE:
		return end_prompt(ui, accepted, false);
	case KEY_BACKSPACE:
	case KEY_DEL:
	case KEY_CTRL_H:
		erase_char(p);
		break;
	case KEY_CTRL_U:
		p->len = 0;
		p->text[0] = '\0';
		break;
	default:
		/* printable ASCII and every byte of a UTF-8 sequence */
		if ((key >= 0x20 && key < KEY_DEL) ||
		    (key >= 0x80 && key <= 0xff))
			insert_byte(p, key);
		break;
	}
	ui_dirty(ui);
	return false;
}
